using System.Diagnostics;
using JobWorker.Jobs;
using JobWorker.Persistence;
using JobWorker.Resilience;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Options;
using Npgsql;

namespace JobWorker.Benchmarks;

/// <summary>
/// The bench's reads of its own jobs in the ledger: whether they have all succeeded (<see cref="JobStore"/>'s count, as the
/// tests wait), and when each was accepted and finished (the EF model, read-only). No SQL text of its own.
/// </summary>
internal sealed class BenchLedger : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly PooledDbContextFactory<JobDbContext> _contexts;
    private readonly JobStore _store;

    public BenchLedger(string connectionString)
    {
        _dataSource = new NpgsqlDataSourceBuilder(connectionString)
        {
            ConnectionStringBuilder = { MaxPoolSize = 2, ApplicationName = "jobworker-bench-ledger" },
        }.Build();
        _contexts = new PooledDbContextFactory<JobDbContext>(new DbContextOptionsBuilder<JobDbContext>().UseNpgsql(_dataSource).Options);
        _store = new JobStore(_contexts, TransitionResilience.None, Options.Create(new DispatchOptions()));
    }

    /// <summary>
    /// Waits, polling every <paramref name="every"/> (100 ms unless given), until every one of <paramref name="ids"/> is
    /// Succeeded; fails at once when one ends otherwise.
    /// </summary>
    public async Task WaitUntilSucceededAsync(Guid[] ids, TimeSpan timeout, CancellationToken cancellationToken, TimeSpan? every = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var counts = await _store.CountByStateAsync(ids, cancellationToken);
            if (counts.GetValueOrDefault(JobState.Succeeded) == ids.Length)
            {
                return;
            }

            var seen = string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}"));
            if (counts.Any(c => c.Key is JobState.Failed or JobState.Cancelled && c.Value > 0))
            {
                throw new InvalidOperationException($"Not every one of {ids.Length} jobs succeeded: {seen}.");
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Not every one of {ids.Length} jobs succeeded within {timeout}: {seen}.");
            }

            await Task.Delay(every ?? TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    /// <summary>When each of <paramref name="ids"/> was accepted and finished, by the database's clock.</summary>
    public async Task<Dictionary<Guid, (DateTime CreatedAt, DateTime? FinishedAt)>> TimesAsync(Guid[] ids, CancellationToken cancellationToken)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        return await db.Jobs.AsNoTracking().TagWith("jobworker:bench-times")
            .Where(j => ids.Contains(j.Id))
            .Select(j => new { j.Id, j.CreatedAt, j.FinishedAt })
            .ToDictionaryAsync(j => j.Id, j => (j.CreatedAt, j.FinishedAt), cancellationToken);
    }

    /// <summary>When each of <paramref name="ids"/> last started, by the database's clock.</summary>
    public async Task<Dictionary<Guid, DateTime>> StartsAsync(Guid[] ids, CancellationToken cancellationToken)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        return await db.Jobs.AsNoTracking().TagWith("jobworker:bench-starts")
            .Where(j => ids.Contains(j.Id) && j.StartedAt != null)
            .Select(j => new { j.Id, j.StartedAt })
            .ToDictionaryAsync(j => j.Id, j => j.StartedAt!.Value, cancellationToken);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
