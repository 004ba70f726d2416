-- The clickstream, one row per event, in the vendor's column names.
SELECT
    event_id,
    session_id            AS visit_id,
    customer_id           AS user_ref,
    event_ts              AS occurred_at,
    event_date,
    event_type            AS action,
    product_id            AS item_id,
    page                  AS url_path
FROM stg_clickstream
