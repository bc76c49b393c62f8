import Migrations

/// The api's schema, forward-only, in the SQL subset SQLite and PostgreSQL share. Times are Unix
/// milliseconds (BIGINT); ids are text (event ids, work order numbers, UUIDs).
enum APIMigrations {
    static let all: [Migration] = [
        Migration(version: 1, name: "api: users, tokens, sessions, audit", sql: """
            CREATE TABLE users (
                name TEXT PRIMARY KEY,
                role TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE TABLE api_tokens (
                id TEXT PRIMARY KEY,
                user_name TEXT NOT NULL,
                name TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                last_used_at BIGINT
            );
            CREATE TABLE sessions (
                token_hash TEXT PRIMARY KEY,
                user_name TEXT NOT NULL,
                expires_at BIGINT NOT NULL
            );
            CREATE TABLE audit_log (
                id TEXT PRIMARY KEY,
                ts BIGINT NOT NULL,
                user_name TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT NOT NULL,
                detail TEXT NOT NULL
            );
            CREATE INDEX audit_log_ts ON audit_log (ts);
            """),
        Migration(version: 2, name: "api: read models from the UNS", sql: """
            CREATE TABLE processed_events (
                event_key TEXT PRIMARY KEY,
                received_at BIGINT NOT NULL
            );
            CREATE TABLE assets (
                path TEXT PRIMARY KEY,
                parent TEXT,
                name TEXT NOT NULL,
                depth BIGINT NOT NULL
            );
            CREATE TABLE latest_values (
                path TEXT NOT NULL,
                metric TEXT NOT NULL,
                value_json TEXT NOT NULL,
                unit TEXT,
                quality TEXT,
                ts BIGINT NOT NULL,
                PRIMARY KEY (path, metric)
            );
            CREATE TABLE state_changes (
                event_id TEXT PRIMARY KEY,
                path TEXT NOT NULL,
                state TEXT NOT NULL,
                previous TEXT,
                reason TEXT,
                since BIGINT NOT NULL,
                reason_code TEXT,
                classified_by TEXT,
                classified_at BIGINT
            );
            CREATE INDEX state_changes_path_since ON state_changes (path, since);
            CREATE TABLE alarms (
                id TEXT PRIMARY KEY,
                alarm_id TEXT NOT NULL,
                path TEXT NOT NULL,
                metric TEXT NOT NULL,
                severity TEXT NOT NULL,
                threshold DOUBLE PRECISION NOT NULL,
                value DOUBLE PRECISION NOT NULL,
                message TEXT NOT NULL,
                raised_at BIGINT NOT NULL,
                cleared_at BIGINT,
                cleared_by TEXT,
                cleared_value DOUBLE PRECISION,
                acknowledged_at BIGINT,
                acknowledged_by TEXT
            );
            CREATE INDEX alarms_alarm_id ON alarms (alarm_id);
            CREATE TABLE production (
                event_id TEXT PRIMARY KEY,
                path TEXT NOT NULL,
                good BIGINT NOT NULL,
                scrap BIGINT NOT NULL,
                total BIGINT NOT NULL,
                window_start BIGINT NOT NULL,
                window_end BIGINT NOT NULL,
                work_order_id TEXT
            );
            CREATE INDEX production_path_window ON production (path, window_start);
            CREATE INDEX production_work_order ON production (work_order_id);
            """),
        Migration(version: 3, name: "api: products and work orders", sql: """
            CREATE TABLE products (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                ideal_cycle_seconds DOUBLE PRECISION NOT NULL
            );
            CREATE TABLE work_orders (
                id TEXT PRIMARY KEY,
                product_id TEXT NOT NULL,
                quantity_target BIGINT NOT NULL,
                asset TEXT NOT NULL,
                status TEXT NOT NULL,
                scheduled_start BIGINT,
                scheduled_end BIGINT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                started_at BIGINT,
                completed_at BIGINT
            );
            CREATE INDEX work_orders_status ON work_orders (status);
            """),
        // The outbox: work-order events committed with their change, published by `OutboxRelay`, deleted on
        // PUBACK. `position` orders them (see `OutboxPositions`); `processed_events` gets an index for pruning.
        Migration(version: 4, name: "api: event outbox, dedup pruning index", sql: """
            CREATE TABLE outbox (
                id TEXT PRIMARY KEY,
                position BIGINT NOT NULL,
                topic TEXT NOT NULL,
                payload TEXT NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE INDEX outbox_position ON outbox (position);
            CREATE INDEX processed_events_received_at ON processed_events (received_at);
            """),
    ]
}
