using System.ComponentModel.DataAnnotations;

namespace JobWorker.Persistence;

/// <summary>Where the job store lives. Section <c>Database</c>.</summary>
internal sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>
    /// Npgsql connection string. Its pool keys (Maximum Pool Size, Timeout, Connection Idle Lifetime...) size the
    /// pool this replica shares among all its jobs. Put the password in the environment
    /// (<c>Database__ConnectionString</c>) or a secret store, never in appsettings.json.
    /// </summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Database:ConnectionString is required (environment: Database__ConnectionString).")]
    public string ConnectionString { get; set; } = "";

    /// <summary>Apply pending schema migrations when the worker starts, instead of by <c>jobworker migrate</c>.</summary>
    public bool MigrateOnStart { get; set; }

    /// <summary>Statements slower than this are logged with their SQL and counted; 0 turns it off.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00", ErrorMessage = "Database:SlowStatementThreshold must be between 0 and 1 h.")]
    public TimeSpan SlowStatementThreshold { get; set; } = TimeSpan.FromMilliseconds(200);
}
