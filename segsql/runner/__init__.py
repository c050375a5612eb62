"""Running segments: schedule, evaluate, diff against stored membership, record state."""
