namespace JobWorker.Resilience;

/// <summary>Looks through an exception and the ones it wraps: EF wraps Npgsql's, MassTransit wraps the JSON parser's.</summary>
internal static class ExceptionChain
{
    /// <summary>The first exception of type <typeparamref name="T"/> in the chain, or null.</summary>
    public static T? Find<T>(Exception? exception) where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T match)
            {
                return match;
            }
        }

        return null;
    }

    /// <summary>The innermost exception: usually the one that names the actual problem.</summary>
    public static Exception Innermost(Exception exception)
    {
        while (exception.InnerException is not null)
        {
            exception = exception.InnerException;
        }

        return exception;
    }
}
