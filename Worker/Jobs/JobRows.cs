using JobWorker.Persistence;
using Npgsql;

namespace JobWorker.Jobs;

/// <summary>Reads the rows <see cref="JobSql"/>'s statements return, by column name.</summary>
internal static class JobRows
{
    /// <summary>A claimed job (see <see cref="JobSql"/>'s claimed columns); its payload when the statement returns one.</summary>
    public static Job Claimed(NpgsqlDataReader r)
    {
        var payload = OrdinalOrNull(r, "payload");
        return new Job
        {
            Id = r.GetFieldValue<Guid>(r.GetOrdinal("id")),
            Type = r.GetFieldValue<string>(r.GetOrdinal("type")),
            Queue = r.GetFieldValue<string>(r.GetOrdinal("queue")),
            State = Enum.Parse<JobState>(r.GetFieldValue<string>(r.GetOrdinal("state"))),
            Attempt = r.GetFieldValue<int>(r.GetOrdinal("attempt")),
            MaxAttempts = r.GetFieldValue<int>(r.GetOrdinal("max_attempts")),
            Timeout = Nullable<TimeSpan>(r, "timeout"),
            CorrelationId = Nullable<Guid>(r, "correlation_id"),
            RunAt = r.GetFieldValue<DateTime>(r.GetOrdinal("run_at")),
            Owner = Text(r, "owner"),
            ClaimToken = Nullable<Guid>(r, "claim_token"),
            LeaseExpiresAt = Nullable<DateTime>(r, "lease_expires_at"),
            CreatedAt = r.GetFieldValue<DateTime>(r.GetOrdinal("created_at")),
            StartedAt = Nullable<DateTime>(r, "started_at"),
            UpdatedAt = r.GetFieldValue<DateTime>(r.GetOrdinal("updated_at")),
            Payload = payload is { } p && !r.IsDBNull(p) ? r.GetFieldValue<string>(p) : "null",
            Checkpoint = OrdinalOrNull(r, "checkpoint") is { } c && !r.IsDBNull(c) ? r.GetFieldValue<string>(c) : null,
        };
    }

    public static T? Nullable<T>(NpgsqlDataReader r, string column) where T : struct
    {
        var ordinal = r.GetOrdinal(column);
        return r.IsDBNull(ordinal) ? null : r.GetFieldValue<T>(ordinal);
    }

    public static string? Text(NpgsqlDataReader r, string column)
    {
        var ordinal = r.GetOrdinal(column);
        return r.IsDBNull(ordinal) ? null : r.GetFieldValue<string>(ordinal);
    }

    public static T Value<T>(NpgsqlDataReader r, string column) => r.GetFieldValue<T>(r.GetOrdinal(column));

    private static int? OrdinalOrNull(NpgsqlDataReader r, string column)
    {
        for (var i = 0; i < r.FieldCount; i++)
        {
            if (r.GetName(i) == column)
            {
                return i;
            }
        }

        return null;
    }
}
