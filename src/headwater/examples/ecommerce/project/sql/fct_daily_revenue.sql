-- Revenue per day and country, in the country's currency. Sales count on the order date;
-- refunds (returned quantity at the price paid) count on the day of the return.
WITH sales AS (
    SELECT
        order_date,
        country,
        currency,
        count(*)                                                  AS orders,
        count(*) FILTER (WHERE status = 'cancelled')              AS cancelled_orders,
        sum(units) FILTER (WHERE status <> 'cancelled')           AS units,
        sum(gross_amount) FILTER (WHERE status <> 'cancelled')    AS gross_revenue
    FROM fct_orders
    GROUP BY order_date, country, currency
),
line_prices AS (
    -- The same product can sit on two lines of an order; refund at the higher price.
    SELECT order_id, product_id, max(unit_price) AS unit_price
    FROM stg_order_items
    GROUP BY order_id, product_id
),
refunds AS (
    SELECT
        r.returned_date                   AS order_date,
        o.country,
        o.currency,
        count(*)                          AS returns,
        sum(r.quantity * lp.unit_price)   AS refunds
    FROM stg_returns AS r
    JOIN fct_orders AS o ON o.order_id = r.order_id
    JOIN line_prices AS lp ON lp.order_id = r.order_id AND lp.product_id = r.product_id
    GROUP BY r.returned_date, o.country, o.currency
)
SELECT
    coalesce(s.order_date, f.order_date)                    AS order_date,
    coalesce(s.country, f.country)                          AS country,
    coalesce(s.currency, f.currency)                        AS currency,
    CAST(coalesce(s.orders, 0) AS BIGINT)                   AS orders,
    CAST(coalesce(s.cancelled_orders, 0) AS BIGINT)         AS cancelled_orders,
    CAST(coalesce(s.units, 0) AS BIGINT)                    AS items,
    CAST(coalesce(s.gross_revenue, 0) AS DECIMAL(14, 2))    AS gross_revenue,
    CAST(coalesce(f.returns, 0) AS BIGINT)                  AS returns,
    CAST(coalesce(f.refunds, 0) AS DECIMAL(14, 2))          AS refunds,
    CAST(coalesce(s.gross_revenue, 0) - coalesce(f.refunds, 0) AS DECIMAL(14, 2)) AS net_revenue
FROM sales AS s
FULL OUTER JOIN refunds AS f
    ON f.order_date = s.order_date AND f.country = s.country AND f.currency = s.currency
