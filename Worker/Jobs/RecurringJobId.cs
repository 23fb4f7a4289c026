using System.Security.Cryptography;
using System.Text;

namespace JobWorker.Jobs;

/// <summary>
/// The id of an occurrence's job, derived from the schedule's key and the occurrence (a name-based UUID, version 5, as
/// RFC 9562 describes): every replica that fires the same occurrence names the same job, so the idempotent insert is the
/// backstop behind the compare-and-set.
/// </summary>
internal static class RecurringJobId
{
    /// <summary>A namespace of our own, so these ids never meet another v5 id of the same name.</summary>
    private static readonly byte[] Namespace = Guid.Parse("6f1c3b0e-2a9d-4f55-9d0e-7c1b6a3e5d21").ToByteArray(bigEndian: true);

    public static Guid For(string key, DateTime occurrenceUtc)
    {
        var name = Encoding.UTF8.GetBytes($"{key}\n{occurrenceUtc.ToUniversalTime().Ticks}");
        var input = new byte[Namespace.Length + name.Length];
        Namespace.CopyTo(input, 0);
        name.CopyTo(input, Namespace.Length);
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(input, hash);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
