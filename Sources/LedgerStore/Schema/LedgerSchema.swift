import GRDB

/// The ledger's migrations. Append new migrations; never edit a shipped one.
enum LedgerSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-ledger") { db in
            try db.execute(
                sql: """
                    CREATE TABLE store_meta (
                        key TEXT PRIMARY KEY NOT NULL,
                        value TEXT NOT NULL
                    ) WITHOUT ROWID;

                    CREATE TABLE program_versions (
                        version INTEGER PRIMARY KEY,
                        document TEXT NOT NULL,
                        installed_at INTEGER NOT NULL
                    );

                    CREATE TABLE members (
                        id INTEGER PRIMARY KEY,
                        name TEXT,
                        birthday TEXT,
                        enrolled_at INTEGER NOT NULL,
                        -- Cache of SUM(entries.points); kept by the trigger below, checked by verify.
                        balance INTEGER NOT NULL DEFAULT 0,
                        tier TEXT NOT NULL
                    );

                    CREATE TABLE cards (
                        number TEXT PRIMARY KEY NOT NULL,
                        member_id INTEGER NOT NULL REFERENCES members(id),
                        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked')),
                        added_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX cards_by_member ON cards(member_id);

                    -- seq is the per-store sequence: SQLite assigns MAX(seq)+1 and rows are never
                    -- deleted (trigger below), so it is contiguous and never reused. The sync outbox
                    -- is the range seq > store_meta.hq_acknowledged_seq.
                    CREATE TABLE entries (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        store_id TEXT NOT NULL,
                        member_id INTEGER NOT NULL REFERENCES members(id),
                        card TEXT NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('earn', 'redeem', 'reverse', 'adjust', 'bonus', 'expire')),
                        points INTEGER NOT NULL,
                        -- Effect on spend: the sale amount for earn, minus the refunded amount for a
                        -- reverse of an earn, 0 otherwise.
                        amount_minor INTEGER NOT NULL,
                        balance_after INTEGER NOT NULL,
                        receipt TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL UNIQUE,
                        refers_to_seq INTEGER REFERENCES entries(seq),
                        rule_version INTEGER NOT NULL,
                        reason TEXT,
                        created_at INTEGER NOT NULL,
                        CHECK (kind != 'earn' OR (points >= 0 AND amount_minor > 0)),
                        CHECK (kind != 'redeem' OR (points < 0 AND amount_minor = 0))
                    );
                    CREATE INDEX entries_by_member_time ON entries(member_id, created_at);
                    CREATE INDEX entries_by_receipt ON entries(receipt);
                    CREATE INDEX entries_by_time ON entries(created_at);

                    CREATE TRIGGER entries_are_immutable BEFORE UPDATE ON entries
                    BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable: write a compensating entry'); END;
                    CREATE TRIGGER entries_are_never_deleted BEFORE DELETE ON entries
                    BEGIN SELECT RAISE(ABORT, 'ledger entries are never deleted: write a compensating entry'); END;
                    CREATE TRIGGER entries_update_balance AFTER INSERT ON entries
                    BEGIN UPDATE members SET balance = balance + NEW.points WHERE id = NEW.member_id; END;
                    """)
        }
        migrator.registerMigration("v2-sync") { db in
            try db.execute(
                sql: """
                    -- The member as head office last described them: balance across every store, which
                    -- already includes this store's own entries up to includes_store_seq.
                    CREATE TABLE member_snapshots (
                        member_id INTEGER PRIMARY KEY REFERENCES members(id),
                        balance INTEGER NOT NULL,
                        tier TEXT NOT NULL,
                        rolling_spend_minor INTEGER NOT NULL,
                        includes_store_seq INTEGER NOT NULL,
                        received_at INTEGER NOT NULL
                    );
                    CREATE INDEX entries_by_member_seq ON entries(member_id, seq);
                    INSERT INTO store_meta (key, value) VALUES ('hq_cursor', '0') ON CONFLICT DO NOTHING;
                    """)
        }
        migrator.registerMigration("v3-reported-results") { db in
            // What award/redeem reported to the till (the vouched balance and the tier), so that a retry
            // prints exactly the original answer. NULL on entries written before this migration.
            try db.execute(
                sql: """
                    ALTER TABLE entries ADD COLUMN reported_balance INTEGER;
                    ALTER TABLE entries ADD COLUMN reported_tier TEXT;
                    """)
        }
        migrator.registerMigration("v4-provisional-members") { db in
            // A card in the chain's member ranges that this till has not heard of earns as a provisional
            // member; it redeems only once enrolled here or described by head office.
            try db.execute(sql: "ALTER TABLE members ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v5-enrolment-entries", foreignKeyChecks: .deferred) { db in
            // Enrolments and profile changes travel in the ledger stream as 0-point entries. The
            // kind CHECK constraint cannot be altered in place: the table is rebuilt, rows unchanged.
            try db.execute(
                sql: """
                    CREATE TABLE entries_v5 (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        store_id TEXT NOT NULL,
                        member_id INTEGER NOT NULL REFERENCES members(id),
                        card TEXT NOT NULL,
                        kind TEXT NOT NULL
                            CHECK (kind IN ('earn', 'redeem', 'reverse', 'adjust', 'bonus', 'expire', 'enroll', 'profile')),
                        points INTEGER NOT NULL,
                        amount_minor INTEGER NOT NULL,
                        balance_after INTEGER NOT NULL,
                        receipt TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL UNIQUE,
                        refers_to_seq INTEGER REFERENCES entries(seq),
                        rule_version INTEGER NOT NULL,
                        reason TEXT,
                        created_at INTEGER NOT NULL,
                        reported_balance INTEGER,
                        reported_tier TEXT,
                        -- The profile an enrol entry carries (name, birthday YYYY-MM-DD).
                        member_name TEXT,
                        member_birthday TEXT,
                        CHECK (kind != 'earn' OR (points >= 0 AND amount_minor > 0)),
                        CHECK (kind != 'redeem' OR (points < 0 AND amount_minor = 0)),
                        CHECK (kind NOT IN ('enroll', 'profile') OR (points = 0 AND amount_minor = 0))
                    );
                    INSERT INTO entries_v5 (seq, id, store_id, member_id, card, kind, points, amount_minor, balance_after, receipt,
                                            idempotency_key, refers_to_seq, rule_version, reason, created_at, reported_balance,
                                            reported_tier)
                    SELECT seq, id, store_id, member_id, card, kind, points, amount_minor, balance_after, receipt, idempotency_key,
                           refers_to_seq, rule_version, reason, created_at, reported_balance, reported_tier
                    FROM entries ORDER BY seq;
                    DROP TABLE entries;
                    ALTER TABLE entries_v5 RENAME TO entries;
                    CREATE INDEX entries_by_member_time ON entries(member_id, created_at);
                    CREATE INDEX entries_by_receipt ON entries(receipt);
                    CREATE INDEX entries_by_time ON entries(created_at);
                    CREATE INDEX entries_by_member_seq ON entries(member_id, seq);
                    CREATE TRIGGER entries_are_immutable BEFORE UPDATE ON entries
                    BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable: write a compensating entry'); END;
                    CREATE TRIGGER entries_are_never_deleted BEFORE DELETE ON entries
                    BEGIN SELECT RAISE(ABORT, 'ledger entries are never deleted: write a compensating entry'); END;
                    CREATE TRIGGER entries_update_balance AFTER INSERT ON entries
                    BEGIN UPDATE members SET balance = balance + NEW.points WHERE id = NEW.member_id; END;
                    """)
        }
        migrator.registerMigration("v6-added-cards") { db in
            // An enrol entry for a card added to an existing member names a card that member already holds.
            try db.execute(sql: "ALTER TABLE entries ADD COLUMN joins_card TEXT")
        }
        migrator.registerMigration("v7-merged-members") { db in
            // A member head office merged into another: its cards moved; its entries stay (immutable).
            try db.execute(sql: "ALTER TABLE members ADD COLUMN merged_into INTEGER REFERENCES members(id)")
        }
        migrator.registerMigration("v8-member-flags") { db in
            // Head office's segment flags for the cashier (welcome_back, super_user, ...), comma-separated.
            try db.execute(sql: "ALTER TABLE member_snapshots ADD COLUMN flags TEXT")
        }
        migrator.registerMigration("v9-referrals-and-feedback") { db in
            // A new member's enrol entry names the member who referred them (head office counts referrals);
            // a profile entry may carry the member's satisfaction answer (head office averages them).
            try db.execute(sql: "ALTER TABLE entries ADD COLUMN referred_by TEXT")
            try db.execute(
                sql: "ALTER TABLE entries ADD COLUMN feedback_score INTEGER CHECK (feedback_score BETWEEN 1 AND 5)")
        }
        migrator.registerMigration("v10-member-day-points") { db in
            // The points the member's sales earned on their latest earning day (the program's time zone),
            // for the per-day cap: an award reads its member's row instead of scanning their entries.
            try db.execute(sql: "ALTER TABLE members ADD COLUMN earned_day TEXT")
            try db.execute(sql: "ALTER TABLE members ADD COLUMN earned_day_points INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v11-head-office-entries") { db in
            // Entries head office wrote itself (expiry, referral bonuses), recorded once each by id. They
            // are already in head office's snapshot balance, so they never enter this store's own ledger
            // (whose sum is this store's share) nor its outbox.
            try db.execute(
                sql: """
                    CREATE TABLE head_office_entries (
                        id TEXT PRIMARY KEY NOT NULL,
                        member_id INTEGER NOT NULL REFERENCES members(id),
                        kind TEXT NOT NULL CHECK (kind IN ('expire', 'bonus')),
                        points INTEGER NOT NULL,
                        reason TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        received_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX head_office_entries_by_member ON head_office_entries(member_id, created_at);
                    ALTER TABLE member_snapshots ADD COLUMN purchases INTEGER;
                    """)
        }
        migrator.registerMigration("v12-coupons", foreignKeyChecks: .deferred) { db in
            // Coupon entries (0 points) name their coupon; the kind CHECK constraint cannot be altered in
            // place, so the table is rebuilt with every row unchanged. `coupons` is the till's view of each
            // coupon it knows: issued here, or pulled from head office.
            try db.execute(
                sql: """
                    CREATE TABLE entries_v12 (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        store_id TEXT NOT NULL,
                        member_id INTEGER NOT NULL REFERENCES members(id),
                        card TEXT NOT NULL,
                        kind TEXT NOT NULL
                            CHECK (kind IN ('earn', 'redeem', 'reverse', 'adjust', 'bonus', 'expire', 'enroll', 'profile', 'coupon')),
                        points INTEGER NOT NULL,
                        amount_minor INTEGER NOT NULL,
                        balance_after INTEGER NOT NULL,
                        receipt TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL UNIQUE,
                        refers_to_seq INTEGER REFERENCES entries(seq),
                        rule_version INTEGER NOT NULL,
                        reason TEXT,
                        created_at INTEGER NOT NULL,
                        reported_balance INTEGER,
                        reported_tier TEXT,
                        member_name TEXT,
                        member_birthday TEXT,
                        joins_card TEXT,
                        referred_by TEXT,
                        feedback_score INTEGER CHECK (feedback_score BETWEEN 1 AND 5),
                        coupon_code TEXT,
                        CHECK (kind != 'earn' OR (points >= 0 AND amount_minor > 0)),
                        CHECK (kind != 'redeem' OR (points < 0 AND amount_minor = 0)),
                        CHECK (kind NOT IN ('enroll', 'profile', 'coupon') OR (points = 0 AND amount_minor = 0)),
                        CHECK ((kind = 'coupon') = (coupon_code IS NOT NULL))
                    );
                    INSERT INTO entries_v12 (seq, id, store_id, member_id, card, kind, points, amount_minor, balance_after, receipt,
                                             idempotency_key, refers_to_seq, rule_version, reason, created_at, reported_balance,
                                             reported_tier, member_name, member_birthday, joins_card, referred_by, feedback_score)
                    SELECT seq, id, store_id, member_id, card, kind, points, amount_minor, balance_after, receipt, idempotency_key,
                           refers_to_seq, rule_version, reason, created_at, reported_balance, reported_tier, member_name,
                           member_birthday, joins_card, referred_by, feedback_score
                    FROM entries ORDER BY seq;
                    DROP TABLE entries;
                    ALTER TABLE entries_v12 RENAME TO entries;
                    CREATE INDEX entries_by_member_time ON entries(member_id, created_at);
                    CREATE INDEX entries_by_receipt ON entries(receipt);
                    CREATE INDEX entries_by_time ON entries(created_at);
                    CREATE INDEX entries_by_member_seq ON entries(member_id, seq);
                    CREATE TRIGGER entries_are_immutable BEFORE UPDATE ON entries
                    BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable: write a compensating entry'); END;
                    CREATE TRIGGER entries_are_never_deleted BEFORE DELETE ON entries
                    BEGIN SELECT RAISE(ABORT, 'ledger entries are never deleted: write a compensating entry'); END;
                    CREATE TRIGGER entries_update_balance AFTER INSERT ON entries
                    BEGIN UPDATE members SET balance = balance + NEW.points WHERE id = NEW.member_id; END;

                    CREATE TABLE coupons (
                        code TEXT PRIMARY KEY NOT NULL,
                        member_id INTEGER NOT NULL REFERENCES members(id),
                        rule_version INTEGER NOT NULL,
                        discount_minor INTEGER NOT NULL CHECK (discount_minor > 0),
                        issued_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('open', 'used', 'voided')),
                        -- The sale that earned the coupon, if one did (its full refund voids an unused coupon).
                        issued_by_seq INTEGER REFERENCES entries(seq),
                        used_receipt TEXT
                    ) WITHOUT ROWID;
                    CREATE INDEX coupons_by_member ON coupons(member_id);
                    """)
        }
        migrator.registerMigration("v13-head-office-adjustments", foreignKeyChecks: .deferred) { db in
            // Head office also writes `adjust` entries (reconciling once-per-member grants two tills both
            // paid): the CHECK cannot be altered in place, so the small table is rebuilt, rows unchanged.
            try db.execute(
                sql: """
                    CREATE TABLE head_office_entries_v13 (
                        id TEXT PRIMARY KEY NOT NULL,
                        member_id INTEGER NOT NULL REFERENCES members(id),
                        kind TEXT NOT NULL CHECK (kind IN ('expire', 'bonus', 'adjust')),
                        points INTEGER NOT NULL,
                        reason TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        received_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    INSERT INTO head_office_entries_v13 SELECT id, member_id, kind, points, reason, created_at, received_at
                        FROM head_office_entries;
                    DROP TABLE head_office_entries;
                    ALTER TABLE head_office_entries_v13 RENAME TO head_office_entries;
                    CREATE INDEX head_office_entries_by_member ON head_office_entries(member_id, created_at);
                    """)
        }
        migrator.registerMigration("v14-chain-rolling-points") { db in
            // Head office's 12-month points earned for the member: a till's tier progress is the chain's.
            try db.execute(sql: "ALTER TABLE member_snapshots ADD COLUMN rolling_points_earned INTEGER")
        }
        migrator.registerMigration("v15-sale-lines") { db in
            // What each line of a sale earned, and what each return took back from it: a return of the
            // gift cards takes back nothing, a return of the fresh food what the fresh food earned.
            try db.execute(
                sql: """
                    CREATE TABLE sale_lines (
                        earn_seq INTEGER NOT NULL REFERENCES entries(seq),
                        line INTEGER NOT NULL,
                        sku TEXT NOT NULL,
                        category TEXT NOT NULL,
                        amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
                        points INTEGER NOT NULL CHECK (points >= 0),
                        PRIMARY KEY (earn_seq, line)
                    ) WITHOUT ROWID;
                    CREATE TABLE line_returns (
                        reverse_seq INTEGER NOT NULL REFERENCES entries(seq),
                        earn_seq INTEGER NOT NULL,
                        line INTEGER NOT NULL,
                        amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
                        points INTEGER NOT NULL CHECK (points >= 0),
                        PRIMARY KEY (reverse_seq, line),
                        FOREIGN KEY (earn_seq, line) REFERENCES sale_lines(earn_seq, line)
                    ) WITHOUT ROWID;
                    CREATE INDEX line_returns_by_sale ON line_returns(earn_seq, line);
                    CREATE TRIGGER sale_lines_are_immutable BEFORE UPDATE ON sale_lines
                    BEGIN SELECT RAISE(ABORT, 'sale lines are immutable'); END;
                    CREATE TRIGGER line_returns_are_immutable BEFORE UPDATE ON line_returns
                    BEGIN SELECT RAISE(ABORT, 'line returns are immutable'); END;
                    """)
        }
        migrator.registerMigration("v16-chain-day-points") { db in
            // Head office's figure of the member's points from sales of one chain day (net of refunds):
            // the per-day cap counts every store's sales, not this till's alone.
            try db.execute(sql: "ALTER TABLE member_snapshots ADD COLUMN day_points_day TEXT")
            try db.execute(sql: "ALTER TABLE member_snapshots ADD COLUMN day_points INTEGER")
        }
        migrator.registerMigration("v17-chain-first-card") { db in
            // Head office's first card of the member: coupon codes are made from it, the same at every till.
            try db.execute(sql: "ALTER TABLE member_snapshots ADD COLUMN first_card TEXT")
        }
        migrator.registerMigration("v18-snapshot-enrolment") { db in
            // Whether head office knows of an enrolment of the member anywhere: a member known only from
            // sales (a card used before anyone enrolled it) can still be enrolled at a till.
            try db.execute(sql: "ALTER TABLE member_snapshots ADD COLUMN enrolled_at INTEGER")
        }
        migrator.registerMigration("v19-snapshot-early-visits") { db in
            // Head office's count of the member's sales since enrolling, at every store: the early-visit
            // coupon counts the chain's visits, not this till's.
            try db.execute(sql: "ALTER TABLE member_snapshots ADD COLUMN sales_since_enrolment INTEGER")
        }
        migrator.registerMigration("v20-sale-answer") { db in
            // What the till answered for a sale that the entry alone does not say (how its points came
            // about, whether it was provisional): a retried sale answers the same.
            try db.execute(sql: "ALTER TABLE entries ADD COLUMN sale_answer TEXT")
        }
        migrator.registerMigration("v21-returns-elsewhere") { db in
            // A return taken here of a sale another store made: the reverse entry names that store's sale
            // (its store and sequence: `refers_to_seq` only points into this ledger) and what it took per line.
            try db.execute(
                sql: """
                    ALTER TABLE entries ADD COLUMN elsewhere_store TEXT;
                    ALTER TABLE entries ADD COLUMN elsewhere_seq INTEGER;
                    ALTER TABLE entries ADD COLUMN returned_lines TEXT;
                    CREATE INDEX entries_by_sale_elsewhere ON entries(elsewhere_store, elsewhere_seq)
                        WHERE elsewhere_store IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v22-rolling-figures-kept") { db in
            // The member's 12-month spend and points from this till's entries, kept beside the balance so
            // an award reads them instead of summing the member's history: the sum of the member's
            // entries with seq > local_rolling_after_seq and created_at > local_rolling_from_ms (NULL: not kept yet),
            // the oldest of them at local_rolling_oldest_ms. The trigger adds each new entry that belongs.
            try db.execute(
                sql: """
                    ALTER TABLE members ADD COLUMN local_rolling_after_seq INTEGER;
                    ALTER TABLE members ADD COLUMN local_rolling_from_ms INTEGER;
                    ALTER TABLE members ADD COLUMN local_rolling_oldest_ms INTEGER;
                    ALTER TABLE members ADD COLUMN local_rolling_spend_minor INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE members ADD COLUMN local_rolling_points INTEGER NOT NULL DEFAULT 0;
                    DROP TRIGGER entries_update_balance;
                    CREATE TRIGGER entries_update_balance AFTER INSERT ON entries
                    BEGIN
                        UPDATE members SET
                            balance = balance + NEW.points,
                            local_rolling_spend_minor = local_rolling_spend_minor
                                + CASE WHEN NEW.seq > local_rolling_after_seq AND NEW.created_at > local_rolling_from_ms
                                       THEN NEW.amount_minor ELSE 0 END,
                            local_rolling_points = local_rolling_points
                                + CASE WHEN NEW.seq > local_rolling_after_seq AND NEW.created_at > local_rolling_from_ms
                                            AND (NEW.kind IN ('earn', 'bonus') OR (NEW.kind = 'reverse' AND NEW.points < 0))
                                       THEN NEW.points ELSE 0 END,
                            local_rolling_oldest_ms = CASE WHEN NEW.seq > local_rolling_after_seq AND NEW.created_at > local_rolling_from_ms
                                                     THEN MIN(IFNULL(local_rolling_oldest_ms, NEW.created_at), NEW.created_at)
                                                     ELSE local_rolling_oldest_ms END
                        WHERE id = NEW.member_id;
                    END;
                    """)
        }
        migrator.registerMigration("v23-merged-members-index") { db in
            // A member's balance and 12-month figures count the members merged into it here (a card sold as
            // unknown, then added to the member): found through this index on every award.
            try db.execute(
                sql: "CREATE INDEX members_by_merged_into ON members(merged_into) WHERE merged_into IS NOT NULL")
        }
        migrator.registerMigration("v24-returns-count-at-their-sale") { db in
            // A return of a sale of this ledger counts in the kept 12-month figures at its sale's time: a return
            // of a sale that has left the window takes nothing from them.
            let counted = """
                CASE WHEN NEW.kind = 'reverse' AND NEW.refers_to_seq IS NOT NULL
                     THEN IFNULL((SELECT sold.created_at FROM entries sold WHERE sold.seq = NEW.refers_to_seq), NEW.created_at)
                     ELSE NEW.created_at END
                """
            try db.execute(
                sql: """
                    DROP TRIGGER entries_update_balance;
                    CREATE TRIGGER entries_update_balance AFTER INSERT ON entries
                    BEGIN
                        UPDATE members SET
                            balance = balance + NEW.points,
                            local_rolling_spend_minor = local_rolling_spend_minor
                                + CASE WHEN NEW.seq > local_rolling_after_seq AND \(counted) > local_rolling_from_ms
                                       THEN NEW.amount_minor ELSE 0 END,
                            local_rolling_points = local_rolling_points
                                + CASE WHEN NEW.seq > local_rolling_after_seq AND \(counted) > local_rolling_from_ms
                                            AND (NEW.kind IN ('earn', 'bonus') OR (NEW.kind = 'reverse' AND NEW.points < 0))
                                       THEN NEW.points ELSE 0 END,
                            local_rolling_oldest_ms =
                                CASE WHEN NEW.seq > local_rolling_after_seq AND \(counted) > local_rolling_from_ms
                                     THEN MIN(IFNULL(local_rolling_oldest_ms, \(counted)), \(counted))
                                     ELSE local_rolling_oldest_ms END
                        WHERE id = NEW.member_id;
                    END;
                    """)
        }
        migrator.registerMigration("v25-merged-members-until-covered") { db in
            // The seq of the `cards add` that merged a member into another here: until head office's snapshot of
            // the member includes it (head office has joined the two), the merged member counts on its own
            // standing, its snapshot from head office included (found by attack: a card known from a snapshot
            // as an unknown record, added to a member, hid its points until the next sync).
            try db.execute(sql: "ALTER TABLE members ADD COLUMN merged_at_seq INTEGER")
        }
        migrator.registerMigration("v26-store-hub") { db in
            // A store of several tills: the entries of the store's other tills, as the store hub relayed them
            // (they count in a member's balance here until head office's snapshot holds them), and, on the hub,
            // every till's entries it holds for the store and relays to head office.
            try db.execute(
                sql: """
                    CREATE TABLE store_peer_entries (
                        ledger TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        card TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        points INTEGER NOT NULL,
                        amount_minor INTEGER NOT NULL,
                        created_at_ms INTEGER NOT NULL,
                        PRIMARY KEY (ledger, seq)
                    ) WITHOUT ROWID;
                    CREATE INDEX store_peer_entries_by_card ON store_peer_entries(card);
                    CREATE TABLE store_peer_marks (
                        ledger TEXT PRIMARY KEY,
                        head_office_seq INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE hub_ledgers (
                        ledger TEXT PRIMARY KEY,
                        ledger_id TEXT NOT NULL,
                        hub_acknowledged INTEGER NOT NULL DEFAULT 0,
                        head_office_acknowledged INTEGER NOT NULL DEFAULT 0,
                        report TEXT,
                        last_seen_ms INTEGER,
                        refused TEXT
                    );
                    CREATE TABLE hub_nonces (
                        nonce TEXT PRIMARY KEY,
                        expires_at_ms INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE hub_entries (
                        id INTEGER PRIMARY KEY,
                        ledger TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        entry TEXT NOT NULL,
                        received_at_ms INTEGER NOT NULL,
                        card TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        points INTEGER NOT NULL,
                        receipt TEXT NOT NULL,
                        UNIQUE (ledger, seq)
                    );
                    CREATE INDEX hub_entries_by_card ON hub_entries(card);
                    CREATE INDEX hub_entries_by_receipt ON hub_entries(ledger, receipt) WHERE kind = 'redeem';
                    CREATE TABLE hub_holds (
                        ledger TEXT NOT NULL,
                        receipt TEXT NOT NULL,
                        card TEXT NOT NULL,
                        points INTEGER NOT NULL,
                        expires_at_ms INTEGER NOT NULL,
                        PRIMARY KEY (ledger, receipt)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v27-entry-clock-epochs") { db in
            // How this till dated its entries, from each sequence on: by its own clock (`boot_id` and the entry's time
            // minus the time since boot, while no reading of head office's clock was had in that boot), or exactly
            // (`boot_id` NULL). A reading later in the same boot dates the former exactly for head office. A row is
            // written only when the way of dating changes, never per entry.
            try db.execute(
                sql: """
                    CREATE TABLE entry_clock_epochs (
                        from_seq INTEGER PRIMARY KEY,
                        boot_id TEXT,
                        dated_minus_since_boot_ms INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v28-cards-to-ask") { db in
            // Member cards this till met without knowing them: its next sync asks head office for their members
            // (under `--pull-scope store` a till holds only the members its store served). Bounded in code.
            try db.execute(
                sql: "CREATE TABLE cards_to_ask (card TEXT PRIMARY KEY, noted_at_ms INTEGER NOT NULL) WITHOUT ROWID")
        }
        migrator.registerMigration("v29-member-peer-marks") { db in
            // The store's other tills' marks as of the pull that brought each member's snapshot: a pull cut short holds
            // them for the members it applied (the store's marks are set only by a whole pull).
            try db.execute(
                sql: """
                    CREATE TABLE member_peer_marks (
                        member_id INTEGER NOT NULL, ledger TEXT NOT NULL, head_office_seq INTEGER NOT NULL,
                        PRIMARY KEY (member_id, ledger)
                    ) WITHOUT ROWID
                    """)
        }
        return migrator
    }
}
