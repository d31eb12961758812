/// Grants for a table a migration adds (PostgreSQL): the roles that may read or write `hq_members` get the same on
/// it. A head office whose servers connect as another role than the one that migrates keeps working after the
/// upgrade (those roles were granted the tables there were; a new table has none).
enum SchemaGrants {
    /// A statement giving `table` the privileges others hold on `hq_members`.
    static func likeMembers(_ table: String) -> String {
        """
        DO $$
        DECLARE granted record;
        BEGIN
            FOR granted IN
                SELECT DISTINCT grantee, privilege_type FROM information_schema.role_table_grants
                WHERE table_schema = current_schema() AND table_name = 'hq_members' AND grantee <> current_user
                  AND privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')
            LOOP
                EXECUTE format('GRANT %s ON \(table) TO %s', granted.privilege_type,
                               CASE WHEN granted.grantee = 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(granted.grantee) END);
            END LOOP;
        END $$
        """
    }
}
