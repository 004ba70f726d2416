-- Sessions per day and how far down the funnel they got (view, cart, checkout, purchase).
WITH sessions AS (
    SELECT
        session_id,
        min(event_date)                            AS event_date,
        bool_or(customer_id IS NOT NULL)           AS signed_in,
        bool_or(event_type = 'view')               AS viewed,
        bool_or(event_type = 'add_to_cart')        AS added_to_cart,
        bool_or(event_type = 'checkout')           AS checked_out,
        bool_or(event_type = 'purchase')           AS purchased
    FROM stg_clickstream
    GROUP BY session_id
)
SELECT
    event_date,
    CAST(count(*) AS BIGINT)                                      AS sessions,
    CAST(count(*) FILTER (WHERE signed_in) AS BIGINT)             AS signed_in_sessions,
    CAST(count(*) FILTER (WHERE viewed) AS BIGINT)                AS viewed,
    CAST(count(*) FILTER (WHERE added_to_cart) AS BIGINT)         AS added_to_cart,
    CAST(count(*) FILTER (WHERE checked_out) AS BIGINT)           AS checked_out,
    CAST(count(*) FILTER (WHERE purchased) AS BIGINT)             AS purchased,
    CAST(count(*) FILTER (WHERE purchased) AS DOUBLE) / count(*)  AS conversion_rate
FROM sessions
GROUP BY event_date
