/// Which members a store's pull brings (`loyalty-hq serve --pull-scope`, hq.yaml `sync.pull_scope`).
///
/// With every member at every till (`chain`), a member who walks into any store is known there even offline,
/// but each change goes to every till: a thousand tills pulling a busy day's changes make head office send
/// each snapshot a thousand times (fleet-benchmark). With `store`, a till pulls the members its store has
/// served (entries from any of its tills, a card asked for at head office); a member new to the store is a
/// provisional member there until its first sync, as any card the store has not heard of.
public enum PullScope: String, Sendable, CaseIterable {
    /// Every member changed since the cursor (the default: small chains, any member known everywhere).
    case chain
    /// The members the store has served, changed since the cursor.
    case store
}

/// The stores each member is known at (``PullScope/store``): head office schema version 41.
///
/// A row per (store, member): the store is the ledger's store (`0042` for the tills `0042.1`, `0042.2`), so the
/// tills of one store see the same members. Its version follows the member's (a trigger on `hq_members.version`),
/// so a store's changed members are one range of an index, whoever changed them.
enum MemberStores {
    /// One row's key: a member a store served.
    struct Served: Hashable {
        var store: String
        var member: Int64
    }

    /// The store a ledger belongs to, as the rows name it.
    static func store(ofLedger ledger: String) -> String {
        ledger.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ledger
    }

    static let table = """
        CREATE TABLE hq_member_stores (
            store TEXT NOT NULL, member_id BIGINT NOT NULL, version BIGINT NOT NULL, PRIMARY KEY (store, member_id))
        """
    static let indexes = [
        "CREATE INDEX hq_member_stores_feed ON hq_member_stores(store, version, member_id)",
        "CREATE INDEX hq_member_stores_member ON hq_member_stores(member_id)",
    ]

    static let sqlite =
        ([table] + indexes).joined(separator: ";\n") + """
            ;
            CREATE TRIGGER hq_member_stores_follow AFTER UPDATE OF version ON hq_members
            WHEN NEW.version IS NOT OLD.version
            BEGIN UPDATE hq_member_stores SET version = NEW.version WHERE member_id = NEW.id; END;
            INSERT OR IGNORE INTO hq_member_stores (store, member_id, version)
            SELECT CASE WHEN instr(e.store_id, '.') > 0 THEN substr(e.store_id, 1, instr(e.store_id, '.') - 1)
                        ELSE e.store_id END, e.member_id, m.version
            FROM hq_entries e JOIN hq_members m ON m.id = e.member_id;
            INSERT OR IGNORE INTO hq_member_stores (store, member_id, version)
            SELECT CASE WHEN instr(i.store_id, '.') > 0 THEN substr(i.store_id, 1, instr(i.store_id, '.') - 1)
                        ELSE i.store_id END, i.member_id, m.version
            FROM hq_imported_sales i JOIN hq_members m ON m.id = i.member_id;
            """

    static let postgres: [String] =
        [table] + indexes + [
            """
            CREATE FUNCTION hq_member_stores_follow() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE hq_member_stores SET version = NEW.version WHERE member_id = NEW.id;
                RETURN NULL;
            END $$
            """,
            """
            CREATE TRIGGER hq_member_stores_follow AFTER UPDATE OF version ON hq_members
            FOR EACH ROW WHEN (NEW.version IS DISTINCT FROM OLD.version) EXECUTE FUNCTION hq_member_stores_follow()
            """,
            """
            INSERT INTO hq_member_stores (store, member_id, version)
            SELECT DISTINCT split_part(e.store_id, '.', 1), e.member_id, m.version
            FROM hq_entries e JOIN hq_members m ON m.id = e.member_id
            ON CONFLICT DO NOTHING
            """,
            """
            INSERT INTO hq_member_stores (store, member_id, version)
            SELECT DISTINCT split_part(i.store_id, '.', 1), i.member_id, m.version
            FROM hq_imported_sales i JOIN hq_members m ON m.id = i.member_id
            ON CONFLICT DO NOTHING
            """,
            "INSERT INTO hq_schema (version) VALUES (41)",
        ]

    /// Makes `member` (placeholder) known at `store` (placeholder) with version `version` (placeholder), or
    /// moves its row to that version.
    static func know(store: String, member: String, version: String) -> String {
        """
        INSERT INTO hq_member_stores (store, member_id, version) VALUES (\(store), \(member), \(version))
        ON CONFLICT (store, member_id) DO UPDATE SET version = excluded.version
        """
    }

    /// A merge: the stores that knew `merged` know `kept` (placeholders), at its version.
    static func move(merged: String, kept: String) -> String {
        """
        INSERT INTO hq_member_stores (store, member_id, version)
        SELECT store, \(kept), (SELECT version FROM hq_members WHERE id = \(kept)) FROM hq_member_stores
        WHERE member_id = \(merged)
        ON CONFLICT (store, member_id) DO UPDATE SET version = excluded.version
        """
    }

    /// After ``move(merged:kept:)``: the merged record's rows go with it.
    static func forget(member: String) -> String { "DELETE FROM hq_member_stores WHERE member_id = \(member)" }

    /// The first members of a pull's page, `(id, version)` in version then id order: changed after `cursor`, at
    /// most `limit` (placeholders; `store` only read with ``PullScope/store``).
    static func page(_ scope: PullScope, store: String, cursor: String, limit: String) -> String {
        switch scope {
        case .chain:
            """
            SELECT m.id, m.version FROM hq_members m WHERE m.version > \(cursor) AND \(AnalyticsQueries.isMember)
            ORDER BY m.version, m.id LIMIT \(limit)
            """
        case .store:
            """
            SELECT s.member_id, s.version FROM hq_member_stores s JOIN hq_members m ON m.id = s.member_id
            WHERE s.store = \(store) AND s.version > \(cursor) AND \(AnalyticsQueries.isMember)
            ORDER BY s.version, s.member_id LIMIT \(limit)
            """
        }
    }

    /// The rest of the page's last version (a version is never split across pages: the cursor is one).
    static func restOfVersion(_ scope: PullScope, store: String, version: String, afterMember: String) -> String {
        switch scope {
        case .chain:
            """
            SELECT m.id, m.version FROM hq_members m
            WHERE m.version = \(version) AND m.id > \(afterMember) AND \(AnalyticsQueries.isMember) ORDER BY m.id
            """
        case .store:
            """
            SELECT s.member_id, s.version FROM hq_member_stores s JOIN hq_members m ON m.id = s.member_id
            WHERE s.store = \(store) AND s.version = \(version) AND s.member_id > \(afterMember)
              AND \(AnalyticsQueries.isMember) ORDER BY s.member_id
            """
        }
    }

    /// One row when a member changed after `version`: the page is not the last.
    static func anyAfter(_ scope: PullScope, store: String, version: String) -> String {
        switch scope {
        case .chain: "SELECT 1 FROM hq_members WHERE version > \(version) LIMIT 1"
        case .store: "SELECT 1 FROM hq_member_stores WHERE store = \(store) AND version > \(version) LIMIT 1"
        }
    }
}
