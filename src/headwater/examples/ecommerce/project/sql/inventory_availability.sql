-- What the product page shows: units available (on hand minus reserved) across warehouses.
SELECT
    snapshot_date,
    product_id,
    CAST(sum(on_hand) AS BIGINT)                                      AS on_hand,
    CAST(sum(reserved) AS BIGINT)                                     AS reserved,
    CAST(sum(on_hand - reserved) AS BIGINT)                           AS available,
    CAST(count(*) FILTER (WHERE on_hand - reserved > 0) AS INTEGER)   AS warehouses_in_stock,
    sum(on_hand - reserved) > 0                                       AS in_stock
FROM stg_inventory_snapshots
GROUP BY snapshot_date, product_id
