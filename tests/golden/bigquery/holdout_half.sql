SELECT
  _e.`user_id` AS `entity_id`,
  MOD(
    CAST('0x' || SUBSTRING(TO_HEX(MD5('holdout_half:' || CAST(_e.`user_id` AS STRING))), 1, 7) AS INT64),
    100
  ) < 50 AS `holdout`
FROM `main`.`users` AS _e
WHERE
  (
    NOT _e.`user_id` IS NULL
    AND (
      _e.`signup_at` IS NULL OR _e.`signup_at` <= CURRENT_DATETIME('UTC')
    )
  )
  AND TRUE
