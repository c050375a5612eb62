SELECT
  _e.`user_id` AS `entity_id`,
  FALSE AS `holdout`
FROM `Analytics`.`Users` AS _e
WHERE
  NOT _e.`user_id` IS NULL AND _e.`plan` = 'pro'
