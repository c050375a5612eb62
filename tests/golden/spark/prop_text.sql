SELECT
  _e.`user_id` AS `entity_id`,
  FALSE AS `holdout`
FROM `main`.`users` AS _e
WHERE
  (
    NOT _e.`user_id` IS NULL
    AND (
      _e.`signup_at` IS NULL OR _e.`signup_at` <= CURRENT_TIMESTAMP()
    )
  )
  AND (
    LOCATE('%_', _e.`email`) > 0
    OR STARTSWITH(_e.`email`, 'vip_')
    OR ENDSWITH(_e.`email`, '@corp.io')
    OR _e.`email` RLIKE '^[0-9]+@'
  )
