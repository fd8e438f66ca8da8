-- Domain-specific configuration (/v3/domains/{id}/config): one row per
-- option of a domain. value is the option's JSON value as given; sensitive
-- options (ldap password) are kept but never shown.
CREATE TABLE identity_domain_config (
    domain_id TEXT NOT NULL,
    config_group TEXT NOT NULL,
    config_option TEXT NOT NULL,
    value TEXT NOT NULL,
    sensitive BIGINT NOT NULL,
    PRIMARY KEY (domain_id, config_group, config_option)
);
