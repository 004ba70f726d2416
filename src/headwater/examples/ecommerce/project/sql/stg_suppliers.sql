SELECT
    CAST(supplier_id AS BIGINT)                      AS supplier_id,
    trim(CAST(name AS VARCHAR))                      AS name,
    upper(trim(CAST(country AS VARCHAR)))            AS country,
    CAST(lead_time_days AS INTEGER)                  AS lead_time_days
FROM raw_suppliers
