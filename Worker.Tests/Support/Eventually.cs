namespace JobWorker.Tests;

/// <summary>Bounded polling: every wait in the suite ends, and a timeout fails with what was last seen.</summary>
public static class Eventually
{
    public static async Task<T> WaitForAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {timeout} waiting for {what}; last seen: {value}");
            }

            await Task.Delay(100);
        }
    }
}
