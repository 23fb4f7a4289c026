namespace JobWorker.Persistence;

/// <summary>The Application Name this process shows in pg_stat_activity.</summary>
internal sealed record DatabaseClientName(string Value);
