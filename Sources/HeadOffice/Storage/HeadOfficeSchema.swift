/// Head office's tables, one dialect each. Entries are keyed by (store, seq): each is stored at most
/// once, permanently. `version` columns take the value of a single counter bumped once per
/// changing transaction, so a pull's cursor is one number and commit order equals cursor order.
enum HeadOfficeSchema {
    static let sqlite = """
        CREATE TABLE hq_counter (id INTEGER PRIMARY KEY CHECK (id = 1), change_seq INTEGER NOT NULL);
        INSERT INTO hq_counter (id, change_seq) VALUES (1, 0);
        CREATE TABLE hq_stores (
            id TEXT PRIMARY KEY NOT NULL, secret TEXT NOT NULL, acknowledged_seq INTEGER NOT NULL,
            reported_backlog INTEGER NOT NULL, last_contact_ms INTEGER, created_at_ms INTEGER NOT NULL);
        CREATE TABLE hq_nonces (
            store_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (store_id, nonce));
        CREATE INDEX hq_nonces_expiry ON hq_nonces(expires_at);
        CREATE TABLE hq_members (
            id INTEGER PRIMARY KEY, first_card TEXT NOT NULL, balance INTEGER NOT NULL,
            lifetime_spend_minor INTEGER NOT NULL, overdrawn BOOLEAN NOT NULL DEFAULT 0, version INTEGER NOT NULL,
            created_at_ms INTEGER NOT NULL);
        CREATE INDEX hq_members_version ON hq_members(version);
        CREATE TABLE hq_cards (
            card TEXT PRIMARY KEY NOT NULL, member_id INTEGER NOT NULL REFERENCES hq_members(id),
            blocked BOOLEAN NOT NULL DEFAULT 0, version INTEGER NOT NULL);
        CREATE INDEX hq_cards_member ON hq_cards(member_id);
        CREATE TABLE hq_entries (
            store_id TEXT NOT NULL REFERENCES hq_stores(id), seq INTEGER NOT NULL, id TEXT NOT NULL,
            member_id INTEGER NOT NULL REFERENCES hq_members(id), card TEXT NOT NULL, kind TEXT NOT NULL,
            points INTEGER NOT NULL, amount_minor INTEGER NOT NULL, currency TEXT NOT NULL, receipt TEXT NOT NULL,
            refers_to_seq INTEGER, rule_version INTEGER NOT NULL, reason TEXT, created_at_ms INTEGER NOT NULL,
            received_at_ms INTEGER NOT NULL, PRIMARY KEY (store_id, seq));
        CREATE INDEX hq_entries_member_time ON hq_entries(member_id, created_at_ms);
        CREATE TABLE hq_overdrafts (
            member_id INTEGER NOT NULL, store_id TEXT NOT NULL, seq INTEGER NOT NULL, balance_after INTEGER NOT NULL,
            at_ms INTEGER NOT NULL, PRIMARY KEY (store_id, seq));
        CREATE TRIGGER hq_entries_are_immutable BEFORE UPDATE ON hq_entries
        BEGIN SELECT RAISE(ABORT, 'head-office entries are immutable'); END;
        CREATE TRIGGER hq_entries_are_never_deleted BEFORE DELETE ON hq_entries
        BEGIN SELECT RAISE(ABORT, 'head-office entries are never deleted'); END;
        """

    /// Version 2: head office's epoch, a random identity of this database's history. It changes when
    /// the history is rewound (a restore from backup), and a store that sees it change pulls from zero.
    static let sqliteEpoch = """
        CREATE TABLE hq_identity (
            id INTEGER PRIMARY KEY CHECK (id = 1), epoch TEXT NOT NULL, rotated_at_ms INTEGER NOT NULL);
        INSERT INTO hq_identity (id, epoch, rotated_at_ms) VALUES (1, lower(hex(randomblob(16))), 0);
        """

    static let postgresEpoch: [String] = [
        """
        CREATE TABLE hq_identity (
            id INTEGER PRIMARY KEY CHECK (id = 1), epoch TEXT NOT NULL, rotated_at_ms BIGINT NOT NULL)
        """,
        "INSERT INTO hq_identity (id, epoch, rotated_at_ms) VALUES (1, replace(gen_random_uuid()::text, '-', ''), 0)",
        "INSERT INTO hq_schema (version) VALUES (2)",
    ]

    /// Version 3: the ledger file bound to each store.
    static let sqliteLedgerBinding = "ALTER TABLE hq_stores ADD COLUMN ledger_id TEXT;"

    static let postgresLedgerBinding: [String] = [
        "ALTER TABLE hq_stores ADD COLUMN ledger_id TEXT",
        "INSERT INTO hq_schema (version) VALUES (3)",
    ]

    /// Version 4: enrolments reach head office: the member's profile, and the entry columns that
    /// carry it (so a resent enrol entry compares equal).
    static let sqliteEnrolments = """
        ALTER TABLE hq_members ADD COLUMN name TEXT;
        ALTER TABLE hq_members ADD COLUMN birthday TEXT;
        ALTER TABLE hq_members ADD COLUMN enrolled_store TEXT;
        ALTER TABLE hq_members ADD COLUMN enrolled_at_ms INTEGER;
        ALTER TABLE hq_entries ADD COLUMN member_name TEXT;
        ALTER TABLE hq_entries ADD COLUMN member_birthday TEXT;
        """

    static let postgresEnrolments: [String] = [
        "ALTER TABLE hq_members ADD COLUMN name TEXT",
        "ALTER TABLE hq_members ADD COLUMN birthday TEXT",
        "ALTER TABLE hq_members ADD COLUMN enrolled_store TEXT",
        "ALTER TABLE hq_members ADD COLUMN enrolled_at_ms BIGINT",
        "ALTER TABLE hq_entries ADD COLUMN member_name TEXT",
        "ALTER TABLE hq_entries ADD COLUMN member_birthday TEXT",
        "INSERT INTO hq_schema (version) VALUES (4)",
    ]

    /// Version 5: the audit trail of operator actions.
    static let sqliteAudit = """
        CREATE TABLE hq_audit (
            id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
            detail TEXT NOT NULL, reason TEXT);
        """

    static let postgresAudit: [String] = [
        """
        CREATE TABLE hq_audit (
            id BIGSERIAL PRIMARY KEY, at_ms BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
            detail TEXT NOT NULL, reason TEXT)
        """,
        "INSERT INTO hq_schema (version) VALUES (5)",
    ]

    /// Version 6: enrol entries of cards added to an existing member name a card of that member.
    static let sqliteAddedCards = "ALTER TABLE hq_entries ADD COLUMN joins_card TEXT;"

    static let postgresAddedCards: [String] = [
        "ALTER TABLE hq_entries ADD COLUMN joins_card TEXT",
        "INSERT INTO hq_schema (version) VALUES (6)",
    ]

    /// Version 7: merging two members moves entries to the kept member. An entry's member is the only
    /// thing that may change: its store, seq, id and content stay as the store sent them.
    static let sqliteMerge = """
        DROP TRIGGER hq_entries_are_immutable;
        CREATE TRIGGER hq_entries_are_immutable
        BEFORE UPDATE OF store_id, seq, id, card, kind, points, amount_minor, currency, receipt, refers_to_seq, rule_version,
                         reason, created_at_ms, received_at_ms, member_name, member_birthday, joins_card ON hq_entries
        BEGIN SELECT RAISE(ABORT, 'head-office entries are immutable'); END;
        """

    static let postgresMerge: [String] = [
        """
        CREATE OR REPLACE FUNCTION hq_entries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND (NEW.store_id, NEW.seq, NEW.id, NEW.card, NEW.kind, NEW.points, NEW.amount_minor, NEW.currency,
                NEW.receipt, NEW.refers_to_seq, NEW.rule_version, NEW.reason, NEW.created_at_ms, NEW.received_at_ms,
                NEW.member_name, NEW.member_birthday, NEW.joins_card)
                IS NOT DISTINCT FROM (OLD.store_id, OLD.seq, OLD.id, OLD.card, OLD.kind, OLD.points, OLD.amount_minor, OLD.currency,
                OLD.receipt, OLD.refers_to_seq, OLD.rule_version, OLD.reason, OLD.created_at_ms, OLD.received_at_ms,
                OLD.member_name, OLD.member_birthday, OLD.joins_card)
            THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'head-office entries are immutable';
        END $$
        """,
        "INSERT INTO hq_schema (version) VALUES (7)",
    ]

    /// Version 8: chain settings pushed to every store (the member-card ranges).
    static let sqliteSettings = "CREATE TABLE hq_settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"

    static let postgresSettings: [String] = [
        "CREATE TABLE hq_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "INSERT INTO hq_schema (version) VALUES (8)",
    ]

    /// Version 9: sales history imported from the chain's previous loyalty system (analytics only:
    /// it earns no points and is not part of any store's ledger).
    static let sqliteImportedSales = """
        CREATE TABLE hq_imported_sales (
            store_id TEXT NOT NULL, receipt TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('sale', 'refund')),
            member_id INTEGER NOT NULL REFERENCES hq_members(id), card TEXT NOT NULL, at_ms INTEGER NOT NULL,
            amount_minor INTEGER NOT NULL, imported_at_ms INTEGER NOT NULL,
            PRIMARY KEY (store_id, receipt, kind, at_ms, amount_minor));
        CREATE UNIQUE INDEX hq_imported_one_sale ON hq_imported_sales(store_id, receipt) WHERE kind = 'sale';
        CREATE INDEX hq_imported_member ON hq_imported_sales(member_id);
        """

    static let postgresImportedSales: [String] = [
        """
        CREATE TABLE hq_imported_sales (
            store_id TEXT NOT NULL, receipt TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('sale', 'refund')),
            member_id BIGINT NOT NULL REFERENCES hq_members(id), card TEXT NOT NULL, at_ms BIGINT NOT NULL,
            amount_minor BIGINT NOT NULL, imported_at_ms BIGINT NOT NULL,
            PRIMARY KEY (store_id, receipt, kind, at_ms, amount_minor))
        """,
        "CREATE UNIQUE INDEX hq_imported_one_sale ON hq_imported_sales(store_id, receipt) WHERE kind = 'sale'",
        "CREATE INDEX hq_imported_member ON hq_imported_sales(member_id)",
        "INSERT INTO hq_schema (version) VALUES (9)",
    ]

    /// Version 10: the segment flags head office publishes to the tills (`segments publish`).
    static let sqliteMemberFlags = "ALTER TABLE hq_members ADD COLUMN flags TEXT;"

    static let postgresMemberFlags: [String] = [
        "ALTER TABLE hq_members ADD COLUMN flags TEXT",
        "INSERT INTO hq_schema (version) VALUES (10)",
    ]

    /// Version 11: referrals and satisfaction answers. A referred member's enrol entry names the
    /// referrer's card; the member keeps it (resolved to the referrer through `hq_cards` when counted,
    /// so card replacements and merges keep the count right). A profile entry may carry a satisfaction
    /// answer (1–5). Entries stay immutable, the new columns included.
    static let sqliteReferrals = """
        ALTER TABLE hq_entries ADD COLUMN referred_by TEXT;
        ALTER TABLE hq_entries ADD COLUMN feedback_score INTEGER;
        ALTER TABLE hq_members ADD COLUMN referred_by_card TEXT;
        CREATE INDEX hq_members_referred_by ON hq_members(referred_by_card) WHERE referred_by_card IS NOT NULL;
        DROP TRIGGER hq_entries_are_immutable;
        CREATE TRIGGER hq_entries_are_immutable
        BEFORE UPDATE OF store_id, seq, id, card, kind, points, amount_minor, currency, receipt, refers_to_seq, rule_version,
                         reason, created_at_ms, received_at_ms, member_name, member_birthday, joins_card, referred_by,
                         feedback_score ON hq_entries
        BEGIN SELECT RAISE(ABORT, 'head-office entries are immutable'); END;
        """

    static let postgresReferrals: [String] = [
        "ALTER TABLE hq_entries ADD COLUMN referred_by TEXT",
        "ALTER TABLE hq_entries ADD COLUMN feedback_score INTEGER",
        "ALTER TABLE hq_members ADD COLUMN referred_by_card TEXT",
        "CREATE INDEX hq_members_referred_by ON hq_members(referred_by_card) WHERE referred_by_card IS NOT NULL",
        """
        CREATE OR REPLACE FUNCTION hq_entries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND (NEW.store_id, NEW.seq, NEW.id, NEW.card, NEW.kind, NEW.points, NEW.amount_minor, NEW.currency,
                NEW.receipt, NEW.refers_to_seq, NEW.rule_version, NEW.reason, NEW.created_at_ms, NEW.received_at_ms,
                NEW.member_name, NEW.member_birthday, NEW.joins_card, NEW.referred_by, NEW.feedback_score)
                IS NOT DISTINCT FROM (OLD.store_id, OLD.seq, OLD.id, OLD.card, OLD.kind, OLD.points, OLD.amount_minor, OLD.currency,
                OLD.receipt, OLD.refers_to_seq, OLD.rule_version, OLD.reason, OLD.created_at_ms, OLD.received_at_ms,
                OLD.member_name, OLD.member_birthday, OLD.joins_card, OLD.referred_by, OLD.feedback_score)
            THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'head-office entries are immutable';
        END $$
        """,
        "INSERT INTO hq_schema (version) VALUES (11)",
    ]

    /// Version 12: program versions published by head office (version 1 is the built-in standard).
    static let sqlitePrograms = """
        CREATE TABLE hq_programs (
            version INTEGER PRIMARY KEY, document TEXT NOT NULL, valid_from_ms INTEGER NOT NULL,
            published_at_ms INTEGER NOT NULL, published_by TEXT NOT NULL);
        """

    static let postgresPrograms: [String] = [
        """
        CREATE TABLE hq_programs (
            version INTEGER PRIMARY KEY, document TEXT NOT NULL, valid_from_ms BIGINT NOT NULL,
            published_at_ms BIGINT NOT NULL, published_by TEXT NOT NULL)
        """,
        "INSERT INTO hq_schema (version) VALUES (12)",
    ]

    /// Version 13: the tier head office's last review gave each member (`tiers review`).
    static let sqliteReviewedTiers = "ALTER TABLE hq_members ADD COLUMN reviewed_tier TEXT;"

    static let postgresReviewedTiers: [String] = [
        "ALTER TABLE hq_members ADD COLUMN reviewed_tier TEXT",
        "INSERT INTO hq_schema (version) VALUES (13)",
    ]

    static let postgres: [String] = [
        "CREATE TABLE IF NOT EXISTS hq_schema (version INTEGER PRIMARY KEY)",
        "CREATE TABLE hq_counter (id INTEGER PRIMARY KEY CHECK (id = 1), change_seq BIGINT NOT NULL)",
        "INSERT INTO hq_counter (id, change_seq) VALUES (1, 0)",
        """
        CREATE TABLE hq_stores (
            id TEXT PRIMARY KEY, secret TEXT NOT NULL, acknowledged_seq BIGINT NOT NULL,
            reported_backlog BIGINT NOT NULL, last_contact_ms BIGINT, created_at_ms BIGINT NOT NULL)
        """,
        """
        CREATE TABLE hq_nonces (
            store_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (store_id, nonce))
        """,
        "CREATE INDEX hq_nonces_expiry ON hq_nonces(expires_at)",
        """
        CREATE TABLE hq_members (
            id BIGSERIAL PRIMARY KEY, first_card TEXT NOT NULL, balance BIGINT NOT NULL,
            lifetime_spend_minor BIGINT NOT NULL, overdrawn BOOLEAN NOT NULL DEFAULT FALSE, version BIGINT NOT NULL,
            created_at_ms BIGINT NOT NULL)
        """,
        "CREATE INDEX hq_members_version ON hq_members(version)",
        """
        CREATE TABLE hq_cards (
            card TEXT PRIMARY KEY, member_id BIGINT NOT NULL REFERENCES hq_members(id),
            blocked BOOLEAN NOT NULL DEFAULT FALSE, version BIGINT NOT NULL)
        """,
        "CREATE INDEX hq_cards_member ON hq_cards(member_id)",
        """
        CREATE TABLE hq_entries (
            store_id TEXT NOT NULL REFERENCES hq_stores(id), seq BIGINT NOT NULL, id TEXT NOT NULL,
            member_id BIGINT NOT NULL REFERENCES hq_members(id), card TEXT NOT NULL, kind TEXT NOT NULL,
            points BIGINT NOT NULL, amount_minor BIGINT NOT NULL, currency TEXT NOT NULL, receipt TEXT NOT NULL,
            refers_to_seq BIGINT, rule_version INTEGER NOT NULL, reason TEXT, created_at_ms BIGINT NOT NULL,
            received_at_ms BIGINT NOT NULL, PRIMARY KEY (store_id, seq))
        """,
        "CREATE INDEX hq_entries_member_time ON hq_entries(member_id, created_at_ms)",
        """
        CREATE TABLE hq_overdrafts (
            member_id BIGINT NOT NULL, store_id TEXT NOT NULL, seq BIGINT NOT NULL, balance_after BIGINT NOT NULL,
            at_ms BIGINT NOT NULL, PRIMARY KEY (store_id, seq))
        """,
        """
        CREATE FUNCTION hq_entries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'head-office entries are immutable'; END $$
        """,
        "CREATE TRIGGER hq_entries_no_update BEFORE UPDATE OR DELETE ON hq_entries FOR EACH ROW EXECUTE FUNCTION hq_entries_immutable()",
        "INSERT INTO hq_schema (version) VALUES (1)",
    ]

    /// Version 14: head office's own entries (expiry, referral bonuses): they move a member's balance
    /// like a store's entries, travel to the stores in the member snapshots (from `version`), and are
    /// written once each (`idempotency_key`).
    static let sqliteIssuedEntries = """
        CREATE TABLE hq_issued (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
            member_id INTEGER NOT NULL REFERENCES hq_members(id), card TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('expire', 'bonus')), points INTEGER NOT NULL, reason TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE, created_at_ms INTEGER NOT NULL, issued_at_ms INTEGER NOT NULL,
            issued_by TEXT NOT NULL, version INTEGER NOT NULL);
        CREATE INDEX hq_issued_member ON hq_issued(member_id, version);
        CREATE TRIGGER hq_issued_are_immutable BEFORE UPDATE OF id, kind, points, reason, idempotency_key, created_at_ms ON hq_issued
        BEGIN SELECT RAISE(ABORT, 'head-office entries are immutable'); END;
        CREATE TRIGGER hq_issued_are_never_deleted BEFORE DELETE ON hq_issued
        BEGIN SELECT RAISE(ABORT, 'head-office entries are never deleted'); END;
        """

    static let postgresIssuedEntries: [String] = [
        """
        CREATE TABLE hq_issued (
            seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE,
            member_id BIGINT NOT NULL REFERENCES hq_members(id), card TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('expire', 'bonus')), points BIGINT NOT NULL, reason TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE, created_at_ms BIGINT NOT NULL, issued_at_ms BIGINT NOT NULL,
            issued_by TEXT NOT NULL, version BIGINT NOT NULL)
        """,
        "CREATE INDEX hq_issued_member ON hq_issued(member_id, version)",
        "INSERT INTO hq_schema (version) VALUES (14)",
    ]

    /// Version 15: coupon entries name their coupon (`coupon_code`); head office derives each coupon's
    /// state from them and flags a coupon used twice (two stores offline).
    static let sqliteCoupons = """
        ALTER TABLE hq_entries ADD COLUMN coupon_code TEXT;
        CREATE INDEX hq_entries_coupon ON hq_entries(coupon_code) WHERE coupon_code IS NOT NULL;
        DROP TRIGGER hq_entries_are_immutable;
        CREATE TRIGGER hq_entries_are_immutable
        BEFORE UPDATE OF store_id, seq, id, card, kind, points, amount_minor, currency, receipt, refers_to_seq, rule_version,
                         reason, created_at_ms, received_at_ms, member_name, member_birthday, joins_card, referred_by,
                         feedback_score, coupon_code ON hq_entries
        BEGIN SELECT RAISE(ABORT, 'head-office entries are immutable'); END;
        """

    static let postgresCoupons: [String] = [
        "ALTER TABLE hq_entries ADD COLUMN coupon_code TEXT",
        "CREATE INDEX hq_entries_coupon ON hq_entries(coupon_code) WHERE coupon_code IS NOT NULL",
        """
        CREATE OR REPLACE FUNCTION hq_entries_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND (NEW.store_id, NEW.seq, NEW.id, NEW.card, NEW.kind, NEW.points, NEW.amount_minor, NEW.currency,
                NEW.receipt, NEW.refers_to_seq, NEW.rule_version, NEW.reason, NEW.created_at_ms, NEW.received_at_ms,
                NEW.member_name, NEW.member_birthday, NEW.joins_card, NEW.referred_by, NEW.feedback_score, NEW.coupon_code)
                IS NOT DISTINCT FROM (OLD.store_id, OLD.seq, OLD.id, OLD.card, OLD.kind, OLD.points, OLD.amount_minor, OLD.currency,
                OLD.receipt, OLD.refers_to_seq, OLD.rule_version, OLD.reason, OLD.created_at_ms, OLD.received_at_ms,
                OLD.member_name, OLD.member_birthday, OLD.joins_card, OLD.referred_by, OLD.feedback_score, OLD.coupon_code)
            THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'head-office entries are immutable';
        END $$
        """,
        "INSERT INTO hq_schema (version) VALUES (15)",
    ]

    /// Version 16: the dashboard's totals per store and day read a range of days, not every entry.
    static let sqliteEntriesByTime = "CREATE INDEX hq_entries_time ON hq_entries(created_at_ms);"

    static let postgresEntriesByTime: [String] = [
        "CREATE INDEX hq_entries_time ON hq_entries(created_at_ms)",
        "INSERT INTO hq_schema (version) VALUES (16)",
    ]

    /// Version 17: store secrets rotate with an overlap (the previous secret stays valid until a time),
    /// and a store can be revoked.
    static let sqliteStoreCredentials = """
        ALTER TABLE hq_stores ADD COLUMN previous_secret TEXT;
        ALTER TABLE hq_stores ADD COLUMN previous_secret_until_ms INTEGER;
        ALTER TABLE hq_stores ADD COLUMN revoked_at_ms INTEGER;
        """

    static let postgresStoreCredentials: [String] = [
        "ALTER TABLE hq_stores ADD COLUMN previous_secret TEXT",
        "ALTER TABLE hq_stores ADD COLUMN previous_secret_until_ms BIGINT",
        "ALTER TABLE hq_stores ADD COLUMN revoked_at_ms BIGINT",
        "INSERT INTO hq_schema (version) VALUES (17)",
    ]

    /// Version 18: head office writes `adjust` entries too (reconciling once-per-member grants). SQLite
    /// cannot change a CHECK in place: the table is rebuilt, rows unchanged.
    static let sqliteIssuedAdjustments = """
        CREATE TABLE hq_issued_v18 (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
            member_id INTEGER NOT NULL REFERENCES hq_members(id), card TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('expire', 'bonus', 'adjust')), points INTEGER NOT NULL, reason TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE, created_at_ms INTEGER NOT NULL, issued_at_ms INTEGER NOT NULL,
            issued_by TEXT NOT NULL, version INTEGER NOT NULL);
        INSERT INTO hq_issued_v18 (seq, id, member_id, card, kind, points, reason, idempotency_key, created_at_ms, issued_at_ms,
                                   issued_by, version)
            SELECT seq, id, member_id, card, kind, points, reason, idempotency_key, created_at_ms, issued_at_ms, issued_by, version
            FROM hq_issued;
        DROP TABLE hq_issued;
        ALTER TABLE hq_issued_v18 RENAME TO hq_issued;
        CREATE INDEX hq_issued_member ON hq_issued(member_id, version);
        CREATE TRIGGER hq_issued_are_immutable BEFORE UPDATE OF id, kind, points, reason, idempotency_key, created_at_ms ON hq_issued
        BEGIN SELECT RAISE(ABORT, 'head-office entries are immutable'); END;
        CREATE TRIGGER hq_issued_are_never_deleted BEFORE DELETE ON hq_issued
        BEGIN SELECT RAISE(ABORT, 'head-office entries are never deleted'); END;
        """

    static let postgresIssuedAdjustments: [String] = [
        "ALTER TABLE hq_issued DROP CONSTRAINT hq_issued_kind_check",
        "ALTER TABLE hq_issued ADD CONSTRAINT hq_issued_kind_check CHECK (kind IN ('expire', 'bonus', 'adjust'))",
        "INSERT INTO hq_schema (version) VALUES (18)",
    ]

    /// Version 19: the rows a member's 12-month figures count, in one place for every query that needs
    /// them (the snapshot, `member`, the dashboard, the tier review): the stores' entries, and head office's
    /// own bonuses and grant corrections (a corrected double bonus is not points earned).
    static let tierRowsView = """
        CREATE VIEW hq_tier_rows AS
            SELECT member_id, kind, points, amount_minor, created_at_ms FROM hq_entries
            UNION ALL
            SELECT member_id, 'bonus', points, 0, created_at_ms FROM hq_issued
            WHERE kind = 'bonus' OR (kind = 'adjust' AND idempotency_key LIKE 'reconcile:%')
        """

    static let sqliteTierRows = tierRowsView + ";"

    /// Version 20: a card a till added to one member (`cards add`) while head office holds it on another.
    /// The card keeps its member; the conflict is kept for `report card-conflicts` until an operator
    /// merges the two (one person) or blocks the card.
    static let cardConflicts = """
        CREATE TABLE hq_card_conflicts (
            store_id TEXT NOT NULL, seq BIGINT NOT NULL, card TEXT NOT NULL, joins_card TEXT NOT NULL,
            held_by_member BIGINT NOT NULL, at_ms BIGINT NOT NULL, PRIMARY KEY (store_id, seq))
        """

    static let sqliteCardConflicts = cardConflicts + ";"

    static let postgresCardConflicts: [String] = [cardConflicts, "INSERT INTO hq_schema (version) VALUES (20)"]

    static let postgresTierRows: [String] = [tierRowsView, "INSERT INTO hq_schema (version) VALUES (19)"]

    /// Version 21: coupons head office withdrew (a merged record's coupon of a rule the member already
    /// holds: one person gets each once-per-member coupon once). Stores see them voided.
    static let couponWithdrawals = """
        CREATE TABLE hq_coupon_withdrawals (
            coupon_code TEXT PRIMARY KEY, member_id BIGINT NOT NULL, reason TEXT NOT NULL, at_ms BIGINT NOT NULL,
            withdrawn_by TEXT NOT NULL)
        """

    static let sqliteCouponWithdrawals = couponWithdrawals + ";"

    static let postgresCouponWithdrawals: [String] = [couponWithdrawals, "INSERT INTO hq_schema (version) VALUES (21)"]

    /// Version 22: when the member's name and birthday were last changed at a store, so the newest change
    /// wins whichever store syncs last.
    static let profileTimes = [
        "ALTER TABLE hq_members ADD COLUMN name_at_ms BIGINT",
        "ALTER TABLE hq_members ADD COLUMN birthday_at_ms BIGINT",
    ]

    static let sqliteProfileTimes = profileTimes.joined(separator: ";\n") + ";"

    static let postgresProfileTimes: [String] = profileTimes + ["INSERT INTO hq_schema (version) VALUES (22)"]

    /// Version 23: the 12-month figures count sales imported from the old system too (spend only: their
    /// points are not known), as the tier review always did: one definition of 12-month spend.
    static let tierRowsWithImports = """
        CREATE VIEW hq_tier_rows AS
            SELECT member_id, kind, points, amount_minor, created_at_ms FROM hq_entries
            UNION ALL
            SELECT member_id, 'bonus', points, 0, created_at_ms FROM hq_issued
            WHERE kind = 'bonus' OR (kind = 'adjust' AND idempotency_key LIKE 'reconcile:%')
            UNION ALL
            SELECT member_id, CASE WHEN kind = 'sale' THEN 'earn' ELSE 'reverse' END, 0, amount_minor, at_ms
            FROM hq_imported_sales
        """

    static let sqliteTierRowsWithImports = "DROP VIEW hq_tier_rows;\n" + tierRowsWithImports + ";"

    static let postgresTierRowsWithImports: [String] = [
        "DROP VIEW hq_tier_rows", tierRowsWithImports, "INSERT INTO hq_schema (version) VALUES (23)",
    ]

    /// Version 24: when a card's block was lifted (`cards unblock`): stores pull the unblocked cards
    /// beside the blocked ones, and only cards once blocked travel so.
    static let cardUnblocks = "ALTER TABLE hq_cards ADD COLUMN unblocked_at_ms BIGINT"

    static let sqliteCardUnblocks = cardUnblocks + ";"

    static let postgresCardUnblocks: [String] = [cardUnblocks, "INSERT INTO hq_schema (version) VALUES (24)"]

    /// Version 25: a sale's lines travel with its `earn` entry and a return's lines with its `reverse`
    /// (JSON, as sent), and a return taken at another store than the one that sold names that store: a
    /// return at any store takes back what the returned lines earned, counting every store's returns.
    static let returnsAnywhere = [
        "ALTER TABLE hq_entries ADD COLUMN refers_to_store TEXT", "ALTER TABLE hq_entries ADD COLUMN sale_lines TEXT",
        "ALTER TABLE hq_entries ADD COLUMN returned_lines TEXT",
        // The sale a return refers to, at whichever store it was made.
        """
        CREATE INDEX hq_entries_refers_to ON hq_entries(refers_to_seq, refers_to_store) WHERE refers_to_seq IS NOT NULL
        """,
        "CREATE INDEX hq_entries_receipt ON hq_entries(receipt) WHERE kind IN ('earn', 'redeem')",
    ]

    static let sqliteReturnsAnywhere = returnsAnywhere.joined(separator: ";\n") + ";"

    static let postgresReturnsAnywhere: [String] = returnsAnywhere + ["INSERT INTO hq_schema (version) VALUES (25)"]

    /// Version 26: how much of a sale's refunded amount counted one line (or the sale) twice: returns taken
    /// at two stores from a stale view. Whether the sale still stands (first purchase, referrals) counts
    /// the amount returned once.
    static let returnOverlaps =
        "CREATE TABLE hq_return_overlaps (store_id TEXT NOT NULL, seq BIGINT NOT NULL, amount_minor BIGINT NOT NULL, "
        + "PRIMARY KEY (store_id, seq))"

    static let sqliteReturnOverlaps = returnOverlaps + ";"

    static let postgresReturnOverlaps: [String] = [returnOverlaps, "INSERT INTO hq_schema (version) VALUES (26)"]

    /// Version 27: an operator resolved a card conflict (`loyalty-hq cards resolve`): no longer listed.
    static let cardConflictResolutions = "ALTER TABLE hq_card_conflicts ADD COLUMN resolved_at_ms BIGINT"

    static let sqliteCardConflictResolutions = cardConflictResolutions + ";"

    static let postgresCardConflictResolutions: [String] = [
        cardConflictResolutions, "INSERT INTO hq_schema (version) VALUES (27)",
    ]

    /// Version 28: how far the chain's 12-month figures have been aged (``RollingAging``): members whose
    /// sales left the window since are sent to the stores again. Starts at the window's start now.
    static let sqliteRollingAging = """
        ALTER TABLE hq_counter ADD COLUMN aged_through_ms BIGINT;
        UPDATE hq_counter SET aged_through_ms = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) - \(rollingWindow);
        """

    static let postgresRollingAging: [String] = [
        "ALTER TABLE hq_counter ADD COLUMN aged_through_ms BIGINT",
        "UPDATE hq_counter SET aged_through_ms = (EXTRACT(EPOCH FROM now()) * 1000)::bigint - \(rollingWindow)",
        "INSERT INTO hq_schema (version) VALUES (28)",
    ]

    private static let rollingWindow = HeadOfficeProgram.rollingWindowMilliseconds

    /// Version 29, found by review: an amount returned at two stores (each from a stale view) took the
    /// 12-month spend down twice, though the points were corrected (`reconcile:returned_twice`); and redeemed
    /// points given back twice or too few (`reconcile:restore:…`) counted as points earned. Now the overlap
    /// counts back once (at its sale's time) and the restore corrections are no earnings.
    static let tierRowsCorrected = """
        CREATE VIEW hq_tier_rows AS
            SELECT member_id, kind, points, amount_minor, created_at_ms FROM hq_entries
            UNION ALL
            SELECT member_id, 'bonus', points, 0, created_at_ms FROM hq_issued
            WHERE kind = 'bonus'
               OR (kind = 'adjust' AND idempotency_key LIKE 'reconcile:%' AND idempotency_key NOT LIKE 'reconcile:restore:%')
            UNION ALL
            SELECT member_id, CASE WHEN kind = 'sale' THEN 'earn' ELSE 'reverse' END, 0, amount_minor, at_ms
            FROM hq_imported_sales
            UNION ALL
            SELECT s.member_id, 'adjust', 0, o.amount_minor, s.created_at_ms
            FROM hq_return_overlaps o JOIN hq_entries s ON s.store_id = o.store_id AND s.seq = o.seq
        """

    static let sqliteTierRowsCorrected = "DROP VIEW hq_tier_rows;\n" + tierRowsCorrected + ";"

    static let postgresTierRowsCorrected: [String] = [
        "DROP VIEW hq_tier_rows", tierRowsCorrected, "INSERT INTO hq_schema (version) VALUES (29)",
    ]

    /// The entries of `hq_tier_rows` in versions 30 to 43, each with its time computed: a return naming its sale
    /// counts at the sale's time (``TierRowsByWindow`` gives v44's shape).
    static let tierRowsEntriesAtTheirSale = """
            SELECT e.member_id, e.kind, e.points, e.amount_minor,
                   CASE WHEN e.kind = 'reverse' AND e.refers_to_seq IS NOT NULL
                        THEN COALESCE((SELECT s.created_at_ms FROM hq_entries s
                                       WHERE s.store_id = COALESCE(e.refers_to_store, e.store_id) AND s.seq = e.refers_to_seq),
                                      e.created_at_ms)
                        ELSE e.created_at_ms END AS created_at_ms
            FROM hq_entries e
        """

    /// Version 30, found by review: a return of a sale 13 months old made the 12-month spend negative. A
    /// return counts at its sale's time (the window holds sales and what came back of them); the times of
    /// issued entries and imported sales are indexed for the aging step (``RollingAging``).
    static let tierRowsReturnsAtTheirSale = """
        CREATE VIEW hq_tier_rows AS
        \(tierRowsEntriesAtTheirSale)
            UNION ALL
            SELECT member_id, 'bonus', points, 0, created_at_ms FROM hq_issued
            WHERE kind = 'bonus'
               OR (kind = 'adjust' AND idempotency_key LIKE 'reconcile:%' AND idempotency_key NOT LIKE 'reconcile:restore:%')
            UNION ALL
            SELECT member_id, CASE WHEN kind = 'sale' THEN 'earn' ELSE 'reverse' END, 0, amount_minor, at_ms
            FROM hq_imported_sales
            UNION ALL
            SELECT s.member_id, 'adjust', 0, o.amount_minor, s.created_at_ms
            FROM hq_return_overlaps o JOIN hq_entries s ON s.store_id = o.store_id AND s.seq = o.seq
        """

    static let sqliteTierRowsReturnsAtTheirSale = """
        DROP VIEW hq_tier_rows;
        \(tierRowsReturnsAtTheirSale);
        CREATE INDEX hq_issued_time ON hq_issued(created_at_ms);
        CREATE INDEX hq_imported_time ON hq_imported_sales(at_ms);
        """

    static let postgresTierRowsReturnsAtTheirSale: [String] = [
        "DROP VIEW hq_tier_rows", tierRowsReturnsAtTheirSale, "CREATE INDEX hq_issued_time ON hq_issued(created_at_ms)",
        "CREATE INDEX hq_imported_time ON hq_imported_sales(at_ms)", "INSERT INTO hq_schema (version) VALUES (30)",
    ]

    /// The card a replacement replaced (`cards replace OLD NEW`): an enrolment of a card head office gave a
    /// member is a conflict, an enrolment of a card merged from another record of the same person is not (found
    /// by the chain simulation: such an enrolment was listed as a conflict and paid no referral).
    static let cardReplacements = "ALTER TABLE hq_cards ADD COLUMN replaces_card TEXT"
    static let sqliteCardReplacements = cardReplacements + ";"
    static let postgresCardReplacements: [String] = [cardReplacements, "INSERT INTO hq_schema (version) VALUES (31)"]

    /// When a card joined its member by a merge (``EnrolmentReferral``: an enrolment of a card merged into an
    /// enrolled member before names no referrer).
    static let cardMergeTimes = "ALTER TABLE hq_cards ADD COLUMN merged_at_ms BIGINT"
    static let sqliteCardMergeTimes = cardMergeTimes + ";"
    static let postgresCardMergeTimes: [String] = [cardMergeTimes, "INSERT INTO hq_schema (version) VALUES (32)"]

    /// Version 33, found by attack: a till whose clock ran ahead dated its sales in the future, and head office
    /// counted them in 12-month figures for a year too long. Such an entry counts from its arrival
    /// (`created_at_ms`); the time the till stated is kept beside it, so a resend is the same entry.
    static let statedTimes = "ALTER TABLE hq_entries ADD COLUMN stated_at_ms BIGINT"
    static let sqliteStatedTimes = statedTimes + ";"
    static let postgresStatedTimes: [String] = [statedTimes, "INSERT INTO hq_schema (version) VALUES (33)"]

    /// Version 34, found by attack: a correction of a once-per-member grant counted in 12-month figures at the
    /// time head office wrote it, so a tier reached on a bonus paid twice held. It counts at the grant's time.
    static let tierRowsCountedAtTheirGrant = tierRowsReturnsAtTheirSale.replacingOccurrences(
        of: "SELECT member_id, 'bonus', points, 0, created_at_ms FROM hq_issued",
        with: "SELECT member_id, 'bonus', points, 0, COALESCE(counts_at_ms, created_at_ms) FROM hq_issued")

    static let sqliteTierRowsCountedAtTheirGrant = """
        ALTER TABLE hq_issued ADD COLUMN counts_at_ms INTEGER;
        DROP VIEW hq_tier_rows;
        \(tierRowsCountedAtTheirGrant);
        """

    static let postgresTierRowsCountedAtTheirGrant: [String] = [
        "ALTER TABLE hq_issued ADD COLUMN counts_at_ms BIGINT", "DROP VIEW hq_tier_rows", tierRowsCountedAtTheirGrant,
        "INSERT INTO hq_schema (version) VALUES (34)",
    ]

    /// Version 35, found by attack: a sale's tier multiplier (and a clock-ahead till's promotions) came from the
    /// till's view and were never corrected. Sales bring their base points and the tier they were priced at;
    /// `tiers review` keeps the tier it gave and when, so head office knows the tier a member held at any sale.
    static let pricedSales: [String] = [
        "ALTER TABLE hq_entries ADD COLUMN earning_base BIGINT", "ALTER TABLE hq_entries ADD COLUMN priced_tier TEXT",
        "ALTER TABLE hq_members ADD COLUMN review_floor TEXT",
        "ALTER TABLE hq_members ADD COLUMN reviewed_at_ms BIGINT",
    ]
    static let sqlitePricedSales = pricedSales.joined(separator: ";\n") + ";"
    static let postgresPricedSales: [String] = pricedSales + ["INSERT INTO hq_schema (version) VALUES (35)"]

    /// Version 36, found by attack: an early-visit coupon was never issued when the visits were spread over tills
    /// that had not synced. Head office issues it itself (`reconcileEarlyVisitCoupons`).
    static let issuedCoupons: [String] = [
        """
        CREATE TABLE hq_issued_coupons (
            coupon_code TEXT PRIMARY KEY, member_id BIGINT NOT NULL REFERENCES hq_members(id), rule_version INTEGER NOT NULL,
            issued_at_ms BIGINT NOT NULL, reason TEXT NOT NULL, issued_by TEXT NOT NULL, written_at_ms BIGINT NOT NULL,
            sale_store TEXT NOT NULL, sale_seq BIGINT NOT NULL)
        """,
        "CREATE INDEX hq_issued_coupons_member ON hq_issued_coupons(member_id)",
    ]
    static let sqliteIssuedCoupons = issuedCoupons.joined(separator: ";\n") + ";"
    static let postgresIssuedCoupons: [String] = issuedCoupons + ["INSERT INTO hq_schema (version) VALUES (36)"]

    /// Version 37, found by attack: a till that did not know the member's birthday priced a birthday-month sale
    /// without it, for good. Sales bring whether they were priced with the birthday month (1, 0; NULL unknown).
    static let pricedBirthdays = "ALTER TABLE hq_entries ADD COLUMN priced_birthday INTEGER"
    static let sqlitePricedBirthdays = pricedBirthdays + ";"
    static let postgresPricedBirthdays: [String] = [pricedBirthdays, "INSERT INTO hq_schema (version) VALUES (37)"]

    /// Version 38, found by attack: the day cap counted a repriced sale's correction after returns had taken their
    /// share, and took the returns again. Each sale's whole repricing difference is kept for it.
    static let salePrices =
        "CREATE TABLE hq_sale_prices (store_id TEXT NOT NULL, seq BIGINT NOT NULL, full_delta BIGINT NOT NULL, "
        + "PRIMARY KEY (store_id, seq))"
    static let sqliteSalePrices = salePrices + ";"
    static let postgresSalePrices: [String] = [salePrices, "INSERT INTO hq_schema (version) VALUES (38)"]

    /// Version 39, found by attack: a till that capped a sale by the per-day cap from a stale view (it had not heard
    /// of a refund elsewhere) gave the member less than the always-online program, for good. Sales bring what they
    /// earned before the caps.
    static let pointsBeforeCaps = "ALTER TABLE hq_entries ADD COLUMN points_before_caps BIGINT"
    static let sqlitePointsBeforeCaps = pointsBeforeCaps + ";"
    static let postgresPointsBeforeCaps: [String] = [pointsBeforeCaps, "INSERT INTO hq_schema (version) VALUES (39)"]

    /// Version 40: each store's points total kept with its acknowledged sequence (its entry count), so `report totals`
    /// reads one row per store instead of every entry of the chain's history (growth-benchmark: 2.3× slower at 3 M
    /// entries than at 1 M before).
    static let storePointTotals = [
        "ALTER TABLE hq_stores ADD COLUMN points_total BIGINT NOT NULL DEFAULT 0",
        "UPDATE hq_stores SET points_total = COALESCE((SELECT SUM(e.points) FROM hq_entries e WHERE e.store_id = hq_stores.id), 0)",
    ]
    static let sqliteStorePointTotals = storePointTotals.joined(separator: ";\n") + ";"
    static let postgresStorePointTotals: [String] = storePointTotals + ["INSERT INTO hq_schema (version) VALUES (40)"]
    /// The totals `report totals` prints: stores with entries, by store.
    static let storeTotals =
        "SELECT id, acknowledged_seq, points_total FROM hq_stores WHERE acknowledged_seq > 0 ORDER BY id"

    /// Whether the sale `e` still stands: its amount less the refunds of it (an amount returned twice counted
    /// once) is above zero.
    static let saleStands = """
        e.amount_minor + COALESCE((SELECT SUM(r.amount_minor) FROM hq_entries r
                                   WHERE r.refers_to_seq = e.seq AND COALESCE(r.refers_to_store, r.store_id) = e.store_id
                                     AND r.kind = 'reverse'), 0)
            + COALESCE((SELECT o.amount_minor FROM hq_return_overlaps o WHERE o.store_id = e.store_id AND o.seq = e.seq), 0) > 0
        """

    /// The store of the entry a `reverse` refers to, for a join on the referred entry's (store, seq):
    /// its own store unless the return was taken elsewhere. `alias` is the reverse entry's table alias.
    static func referredStore(_ alias: String) -> String { "COALESCE(\(alias).refers_to_store, \(alias).store_id)" }

    /// Sets the name and birthday an entry brings, each only when it is at least as new as the stored one.
    /// Placeholders: name, birthday, time, member id (in the driver's form).
    static func newestProfile(name: String, birthday: String, at: String, member: String) -> String {
        """
        UPDATE hq_members SET
            name = CASE WHEN \(name) IS NOT NULL AND \(at) >= COALESCE(name_at_ms, -1) THEN \(name) ELSE name END,
            name_at_ms = CASE WHEN \(name) IS NOT NULL AND \(at) >= COALESCE(name_at_ms, -1) THEN \(at) ELSE name_at_ms END,
            birthday = CASE WHEN \(birthday) IS NOT NULL AND \(at) >= COALESCE(birthday_at_ms, -1) THEN \(birthday)
                            ELSE birthday END,
            birthday_at_ms = CASE WHEN \(birthday) IS NOT NULL AND \(at) >= COALESCE(birthday_at_ms, -1) THEN \(at)
                                  ELSE birthday_at_ms END
        WHERE id = \(member)
        """
    }
}
