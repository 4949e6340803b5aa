"""The local replica: Debian hosts with systemd as PID 1 that stand in for EC2, RDS and S3."""
