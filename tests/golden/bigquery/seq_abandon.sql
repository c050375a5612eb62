SELECT
  _e.`user_id` AS `entity_id`,
  FALSE AS `holdout`
FROM `main`.`users` AS _e
LEFT JOIN (
  SELECT DISTINCT
    c.`segsql_k`
  FROM (
    SELECT
      x.`segsql_k` AS `segsql_k`,
      x.`ts` AS `t1`,
      x.`ts` AS `t`
    FROM (
      SELECT
        x.`segsql_k` AS `segsql_k`,
        MAX(x.`ts`) AS `ts`
      FROM (
        SELECT
          ev.`segsql_k` AS `segsql_k`,
          ev.`segsql_ts` AS `ts`
        FROM (
          SELECT
            `user_id` AS `segsql_k`,
            `event_name` AS `segsql_event`,
            `ts` AS `segsql_ts`
          FROM `main`.`events`
          UNION ALL
          SELECT
            `user_id` AS `segsql_k`,
            `event_name` AS `segsql_event`,
            `ts` AS `segsql_ts`
          FROM `main`.`email_events`
        ) AS ev
        WHERE
          ev.`segsql_ts` <= CURRENT_DATETIME('UTC')
          AND ev.`segsql_event` IN ('add_to_cart')
          AND ev.`segsql_ts` >= CURRENT_DATETIME('UTC') - INTERVAL '24' HOUR
      ) AS x
      GROUP BY
        x.`segsql_k`
    ) AS x
  ) AS c
  LEFT JOIN (
    SELECT
      x.`segsql_k`,
      MAX(x.`ts`) AS `t`
    FROM (
      SELECT
        ev.`segsql_k` AS `segsql_k`,
        ev.`segsql_ts` AS `ts`
      FROM (
        SELECT
          `user_id` AS `segsql_k`,
          `event_name` AS `segsql_event`,
          `ts` AS `segsql_ts`
        FROM `main`.`events`
        UNION ALL
        SELECT
          `user_id` AS `segsql_k`,
          `event_name` AS `segsql_event`,
          `ts` AS `segsql_ts`
        FROM `main`.`email_events`
      ) AS ev
      WHERE
        ev.`segsql_ts` <= CURRENT_DATETIME('UTC')
        AND ev.`segsql_event` IN ('checkout_completed')
        AND ev.`segsql_ts` > CURRENT_DATETIME('UTC') - INTERVAL '24' HOUR
    ) AS x
    GROUP BY
      x.`segsql_k`
  ) AS z
    ON z.`segsql_k` = c.`segsql_k`
  WHERE
    z.`t` IS NULL OR z.`t` <= c.`t`
) AS _q1
  ON _q1.`segsql_k` = _e.`user_id`
WHERE
  (
    NOT _e.`user_id` IS NULL
    AND (
      _e.`signup_at` IS NULL OR _e.`signup_at` <= CURRENT_DATETIME('UTC')
    )
  )
  AND NOT _q1.`segsql_k` IS NULL
