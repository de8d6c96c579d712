-- One database and one role per service: no service can read another's tables.
-- Passwords come from the environment file (deploy/ocorrencias.env) through psql variables
-- set by deploy/postgres-init.sh.
CREATE ROLE intake LOGIN PASSWORD :'intake_password';
CREATE ROLE workflow LOGIN PASSWORD :'workflow_password';
CREATE ROLE notification LOGIN PASSWORD :'notification_password';
CREATE ROLE knowledge LOGIN PASSWORD :'knowledge_password';
CREATE ROLE gateway LOGIN PASSWORD :'gateway_password';
CREATE DATABASE intake OWNER intake;
CREATE DATABASE workflow OWNER workflow;
CREATE DATABASE notification OWNER notification;
CREATE DATABASE knowledge OWNER knowledge;
CREATE DATABASE gateway OWNER gateway;
REVOKE ALL ON DATABASE intake, workflow, notification, knowledge, gateway FROM PUBLIC;
