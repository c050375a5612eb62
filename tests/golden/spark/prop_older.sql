SELECT
  e.`user_id` AS `entity_id`,
  FALSE AS `holdout`
FROM `main`.`users` AS e
WHERE
  (
    e.`signup_at` IS NULL OR e.`signup_at` <= CURRENT_TIMESTAMP()
  )
  AND e.`last_seen_at` < CURRENT_TIMESTAMP() - INTERVAL '30' DAY
