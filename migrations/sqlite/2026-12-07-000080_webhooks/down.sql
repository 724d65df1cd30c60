DROP TABLE webhook_deliveries;
DROP TABLE webhook_streams;
DROP TABLE webhook_endpoints;
