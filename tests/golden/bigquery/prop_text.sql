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
    INSTR(_e.`email`, '%_') > 0
    OR STARTS_WITH(_e.`email`, 'vip_')
    OR ENDS_WITH(_e.`email`, '@corp.io')
    OR REGEXP_CONTAINS(_e.`email`, '^[0-9]+@')
  )
