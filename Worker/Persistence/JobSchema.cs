namespace JobWorker.Persistence;

/// <summary>Column limits shared by the EF model, the migration and input validation.</summary>
internal static class JobSchema
{
    public const int MaxTypeLength = 100;
    public const int MaxOwnerLength = 200;
    public const int MaxQueueLength = 200;
    public const int MaxRecurringKeyLength = 200;
    public const int MaxConcurrencyKeyLength = 200;
}
