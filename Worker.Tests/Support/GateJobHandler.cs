using System.Text.Json;
using JobWorker.Jobs;

namespace JobWorker.Tests;

/// <summary>A test handler (type <c>gate</c>) that counts how many of its runs are inside it right now, then waits <c>ms</c>.</summary>
internal sealed class GateJobHandler(HandlerGate gate) : IJobHandler
{
    public const string JobType = "gate";

    public async Task<JsonElement?> RunAsync(JobRun job, CancellationToken cancellationToken)
    {
        gate.Enter();
        try
        {
            await Task.Delay(job.Payload.GetProperty("ms").GetInt32(), cancellationToken);
            return null;
        }
        finally
        {
            gate.Leave();
        }
    }
}

internal sealed class HandlerGate
{
    private int _inside;

    public int Inside => Volatile.Read(ref _inside);

    public void Enter() => Interlocked.Increment(ref _inside);

    public void Leave() => Interlocked.Decrement(ref _inside);
}
