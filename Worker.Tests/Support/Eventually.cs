namespace JobWorker.Tests;

/// <summary>Bounded polling: every wait in the suite ends, and a timeout fails with what was last seen.</summary>
internal static class Eventually
{
    public static async Task<T> WaitForAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        object? lastSeen = null;
        while (true)
        {
            try
            {
                var value = await probe();
                if (done(value))
                {
                    return value;
                }

                lastSeen = value;
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or HttpRequestException)
            {
                // The service under test may be down on purpose (outage tests); look again.
                lastSeen = e.Message;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {timeout} waiting for {what}; last seen: {lastSeen}");
            }

            await Task.Delay(200);
        }
    }
}
