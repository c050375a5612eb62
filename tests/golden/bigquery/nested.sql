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
  AND (
    (
      _e.`plan` = 'trial' OR _e.`plan` = 'free'
    )
    AND NOT COALESCE((
      _e.`score` < 0 OR NOT COALESCE(NOT _e.`email` IS NULL, FALSE)
    ), FALSE)
  )
