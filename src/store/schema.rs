//! One diesel schema for both backends; only types `MultiConnection` covers (Text, BigInt,
//! Integer, Bool, Double, Timestamp).

diesel::table! {
    tenants (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    directories (id) {
        id -> Text,
        tenant_id -> Text,
        name -> Text,
        kind -> Text,
        created_at -> Timestamp,
        on_deactivate -> Text,
        on_delete -> Text,
        retention_seconds -> BigInt,
        on_group_loss -> Text,
        activated_at -> Nullable<Timestamp>,
        deleting_at -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    tokens (id) {
        id -> Text,
        tenant_id -> Text,
        directory_id -> Text,
        token_hash -> Text,
        hint -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    directory_users (id) {
        id -> Text,
        tenant_id -> Text,
        directory_id -> Text,
        external_id -> Nullable<Text>,
        user_name -> Text,
        user_name_ci -> Text,
        active -> Bool,
        state -> Text,
        display_name -> Nullable<Text>,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        primary_email -> Nullable<Text>,
        primary_email_ci -> Nullable<Text>,
        job_title -> Nullable<Text>,
        department -> Nullable<Text>,
        employee_id -> Nullable<Text>,
        manager_id -> Nullable<Text>,
        resource -> Text,
        raw -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        roles -> Text,
        custom_attributes -> Nullable<Text>,
    }
}

diesel::table! {
    directory_groups (id) {
        id -> Text,
        tenant_id -> Text,
        directory_id -> Text,
        external_id -> Nullable<Text>,
        display_name -> Text,
        display_name_ci -> Text,
        resource -> Text,
        raw -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    memberships (group_id, member_id) {
        group_id -> Text,
        member_id -> Text,
        member_type -> Text,
        tenant_id -> Text,
        directory_id -> Text,
        created_at -> Timestamp,
        display -> Nullable<Text>,
    }
}

diesel::table! {
    attribute_paths (id) {
        id -> BigInt,
        tenant_id -> Text,
        directory_id -> Text,
        resource_type -> Text,
        path -> Text,
    }
}

diesel::table! {
    attribute_values (resource_id, path_id, elem) {
        resource_id -> Text,
        path_id -> BigInt,
        elem -> Integer,
        tenant_id -> Text,
        directory_id -> Text,
        value -> Text,
        value_ci -> Text,
        value_num -> Nullable<Double>,
    }
}

diesel::table! {
    events (cursor) {
        cursor -> BigInt,
        id -> Text,
        tenant_id -> Text,
        directory_id -> Text,
        event_type -> Text,
        resource_type -> Text,
        resource_id -> Text,
        data -> Text,
        created_at -> Timestamp,
        changed -> Nullable<Text>,
        previous -> Nullable<Text>,
        redacted -> Bool,
    }
}

diesel::table! {
    app_keys (id) {
        id -> Text,
        tenant_id -> Nullable<Text>,
        key_hash -> Text,
        hint -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    admin_keys (id) {
        id -> Text,
        tenant_id -> Nullable<Text>,
        key_hash -> Text,
        hint -> Text,
        allow -> Nullable<Text>,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    console_sessions (id_hash) {
        id_hash -> Text,
        admin_key_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        tenant_id -> Nullable<Text>,
        url -> Text,
        types -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_until -> Nullable<Timestamp>,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        start_cursor -> BigInt,
        scan_cursor -> BigInt,
        failing_since -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_streams (endpoint_id, directory_id) {
        endpoint_id -> Text,
        directory_id -> Text,
        cursor -> BigInt,
        attempt -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        event_cursor -> BigInt,
        event_type -> Text,
        directory_id -> Text,
        attempt -> Integer,
        status -> Text,
        response_code -> Nullable<Integer>,
        latency_ms -> BigInt,
        error -> Nullable<Text>,
        attempted_at -> Timestamp,
        next_attempt_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    event_counter (id) {
        id -> Integer,
        last_cursor -> BigInt,
    }
}

diesel::table! {
    custom_attributes (directory_id, name) {
        directory_id -> Text,
        tenant_id -> Text,
        name -> Text,
        kind -> Text,
        source -> Text,
        steps -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    custom_attribute_values (user_id, name) {
        user_id -> Text,
        name -> Text,
        directory_id -> Text,
        value -> Text,
    }
}

diesel::table! {
    custom_attribute_rederive (directory_id) {
        directory_id -> Text,
        tenant_id -> Text,
        after_id -> Nullable<Text>,
        checked -> BigInt,
        changed -> BigInt,
        total -> BigInt,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(directories -> tenants (tenant_id));
diesel::joinable!(tokens -> directories (directory_id));
diesel::joinable!(memberships -> directory_groups (group_id));
diesel::joinable!(webhook_streams -> webhook_endpoints (endpoint_id));
diesel::joinable!(console_sessions -> admin_keys (admin_key_id));

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    directories,
    tokens,
    directory_users,
    directory_groups,
    memberships,
    attribute_paths,
    attribute_values,
    events,
    event_counter,
    settings,
    app_keys,
    admin_keys,
    console_sessions,
    webhook_endpoints,
    webhook_streams,
    webhook_deliveries,
    google_directories,
    custom_attribute_values,
);

diesel::table! {
    settings (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    request_log (id) {
        id -> BigInt,
        tenant_id -> Text,
        directory_id -> Text,
        received_at -> Timestamp,
        method -> Text,
        path -> Text,
        query -> Text,
        base_url -> Text,
        request_headers -> Text,
        request_body -> Nullable<Text>,
        request_truncated -> Bool,
        status -> Integer,
        response_headers -> Text,
        response_body -> Nullable<Text>,
        response_truncated -> Bool,
        duration_us -> BigInt,
    }
}

diesel::table! {
    google_directories (directory_id) {
        directory_id -> Text,
        tenant_id -> Text,
        admin_email -> Text,
        customer -> Nullable<Text>,
        domain -> Nullable<Text>,
        group_filter -> Nullable<Text>,
        interval_secs -> BigInt,
        sealed_key -> Text,
        status -> Text,
        last_sync_started_at -> Nullable<Timestamp>,
        last_sync_finished_at -> Nullable<Timestamp>,
        last_created -> BigInt,
        last_updated -> BigInt,
        last_deprovisioned -> BigInt,
        last_error -> Nullable<Text>,
        next_sync_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        watch_channel_id -> Nullable<Text>,
        watch_resource_id -> Nullable<Text>,
        watch_token_hash -> Nullable<Text>,
        watch_expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        watch_renew_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    google_seen (directory_id, kind, google_id) {
        directory_id -> Text,
        kind -> Text,
        google_id -> Text,
    }
}

diesel::table! {
    google_external_members (directory_id, group_id, email) {
        directory_id -> Text,
        group_id -> Text,
        email -> Text,
        google_id -> Nullable<Text>,
    }
}

diesel::table! {
    google_pending_users (directory_id, google_user_id) {
        directory_id -> Text,
        google_user_id -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    roles (id) {
        id -> Text,
        tenant_id -> Text,
        slug -> Text,
        name -> Text,
        priority -> BigInt,
        is_default -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    role_rules (id) {
        id -> Text,
        tenant_id -> Text,
        role_id -> Text,
        match_by -> Text,
        value -> Text,
        value_ci -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    role_recomputes (tenant_id) {
        tenant_id -> Text,
        after_directory -> Text,
        after_user -> Text,
        total -> BigInt,
        done -> BigInt,
        changed -> BigInt,
        requested_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    setup_links (id) {
        id -> Text,
        tenant_id -> Text,
        directory_id -> Text,
        secret_hash -> Text,
        hint -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        token_revealed_at -> Nullable<Timestamp>,
        token_id -> Nullable<Text>,
    }
}
