SELECT
  _e.`user_id` AS `entity_id`,
  FALSE AS `holdout`
FROM `main`.`users` AS _e
WHERE
  (
    NOT _e.`user_id` IS NULL
    AND (
      _e.`signup_at` IS NULL OR _e.`signup_at` <= CURRENT_DATETIME('UTC')
    )
  )
  AND NOT COALESCE(_e.`plan` = 'trial', FALSE)
