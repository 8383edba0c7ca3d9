"""The local stack behind `infra/gateway.py` and the benchmarks: template.yaml read as
AWS reads it (`template`), the Lambda Runtime API and function instances (`runtime`),
API Gateway's HTTP API (`apigw`), the AWS emulator and its event sources (`aws`),
EventBridge schedules (`schedules`), the third-party simulators (`simulators`), and the
JSON log lines they all write (`logs`)."""
