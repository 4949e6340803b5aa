output "dns_name" {
  description = "DNS name of the load balancer: point the service host names at it (CNAME or alias)."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "Hosted zone id of the load balancer, for Route 53 alias records."
  value       = aws_lb.this.zone_id
}

output "urls" {
  description = "URL per service."
  value       = { for svc, s in local.services : svc => "https://${s.host}.${var.domain_name}" }
}
