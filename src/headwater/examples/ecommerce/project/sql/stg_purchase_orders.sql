-- received_date is null while a purchase order is still open.
SELECT
    CAST(po_id AS BIGINT)                                           AS po_id,
    CAST(supplier_id AS BIGINT)                                     AS supplier_id,
    CAST(product_id AS BIGINT)                                      AS product_id,
    CAST(ordered_qty AS INTEGER)                                    AS ordered_qty,
    CAST(received_qty AS INTEGER)                                   AS received_qty,
    CAST(ordered_date AS DATE)                                      AS ordered_date,
    CAST(expected_date AS DATE)                                     AS expected_date,
    CAST(received_date AS DATE)                                     AS received_date
FROM raw_purchase_orders
