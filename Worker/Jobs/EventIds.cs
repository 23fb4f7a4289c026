using System.Security.Cryptography;
using System.Text;

namespace JobWorker.Jobs;

/// <summary>Name-based message ids: the same event always gets the same id.</summary>
internal static class EventIds
{
    public static Guid For(Guid jobId, string kind, int attempt)
    {
        Span<byte> input = stackalloc byte[16 + 16 + 4];
        jobId.TryWriteBytes(input);
        Encoding.ASCII.GetBytes(kind.AsSpan(0, Math.Min(kind.Length, 16)), input[16..]);
        BitConverter.TryWriteBytes(input[32..], attempt);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5 style: name-based
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16]);
    }
}
