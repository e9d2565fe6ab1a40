# Sourced by the influxdb:1.x image's init-influxdb.sh on the first start, after it created
# $INFLUXDB_DB with the server's one-week shard groups ($INFLUX_CMD: its admin CLI call).
# sensorhub's own database has 52-week ones ([influx] shard_duration, docs/reliability.md
# "The database"): years of sparse runs in one-week shards cost influxd a third of its time.
$INFLUX_CMD "ALTER RETENTION POLICY \"autogen\" ON \"$INFLUXDB_DB\" SHARD DURATION 52w"
