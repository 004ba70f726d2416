SELECT
    CAST(snapshot_date AS DATE)                                     AS snapshot_date,
    CAST(product_id AS BIGINT)                                      AS product_id,
    upper(trim(CAST(warehouse AS VARCHAR)))                         AS warehouse,
    CAST(on_hand AS INTEGER)                                        AS on_hand,
    CAST(reserved AS INTEGER)                                       AS reserved
FROM raw_inventory_snapshots
