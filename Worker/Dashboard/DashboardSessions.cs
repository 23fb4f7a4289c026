using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace JobWorker.Dashboard;

/// <summary>
/// The signed-in operators' sessions, held in this process. The cookie carries only a random id; the session itself,
/// with its expiry, lives here, so signing out or expiring ends it for every copy of the cookie. A restart ends them all.
/// </summary>
internal sealed class DashboardSessions(IOptions<DashboardOptions> options, TimeProvider time)
{
    // Keyed by a hash of the id: looking a session up then reveals nothing through timing about the ids held.
    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    /// <summary>Starts a session and returns its id, the cookie's value.</summary>
    public string Start()
    {
        var now = time.GetUtcNow();
        foreach (var (key, session) in _sessions)
        {
            if (session.HasExpired(now, options.Value))
            {
                _sessions.TryRemove(key, out _);
            }
        }

        var id = Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        _sessions[Key(id)] = new Session(now);
        return id;
    }

    /// <summary>True when <paramref name="id"/> names a live session, which this request keeps alive.</summary>
    public bool Touch(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 100)
        {
            return false;
        }

        var key = Key(id);
        if (!_sessions.TryGetValue(key, out var session))
        {
            return false;
        }

        var now = time.GetUtcNow();
        if (session.HasExpired(now, options.Value))
        {
            _sessions.TryRemove(key, out _);
            return false;
        }

        session.LastSeenAt = now;
        return true;
    }

    public void End(string? id)
    {
        if (!string.IsNullOrEmpty(id))
        {
            _sessions.TryRemove(Key(id), out _);
        }
    }

    private static string Key(string id) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(id)));

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private sealed class Session(DateTimeOffset startedAt)
    {
        private long _lastSeenTicks = startedAt.UtcTicks;

        public DateTimeOffset LastSeenAt
        {
            get => new(Interlocked.Read(ref _lastSeenTicks), TimeSpan.Zero);
            set => Interlocked.Exchange(ref _lastSeenTicks, value.UtcTicks);
        }

        public bool HasExpired(DateTimeOffset now, DashboardOptions options) =>
            now - startedAt >= options.SessionLifetime || now - LastSeenAt >= options.SessionIdleTimeout;
    }
}
