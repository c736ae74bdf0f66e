using System.Net;
using System.Security.Cryptography;

namespace Porthole.FunctionalTests.WebProxy;

/// <summary>
/// A request body of <see cref="Length"/> pseudo-random bytes generated while it is sent (never held in memory),
/// hashed on the way out: <see cref="Sha256"/> is known once the body has been sent.
/// </summary>
public sealed class RandomContent : HttpContent
{
    private const int ChunkSize = 256 * 1024;
    private readonly int _seed;

    public RandomContent(long length, int seed = 42)
    {
        Length = length;
        _seed = seed;
        Headers.ContentType = new("application/octet-stream");
        Headers.ContentLength = length;
    }

    public long Length { get; }

    /// <summary>SHA-256 of the body, lower-case hex (computed up front: the same seed always gives the same bytes).</summary>
    public string Sha256 => _sha256 ??= ComputeSha256();

    private string? _sha256;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        var random = new Random(_seed);
        var chunk = new byte[ChunkSize];
        for (long sent = 0; sent < Length; sent += ChunkSize)
        {
            var size = (int)Math.Min(ChunkSize, Length - sent);
            random.NextBytes(chunk.AsSpan(0, size));
            await stream.WriteAsync(chunk.AsMemory(0, size));
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = Length;
        return true;
    }

    private string ComputeSha256()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var random = new Random(_seed);
        var chunk = new byte[ChunkSize];
        for (long done = 0; done < Length; done += ChunkSize)
        {
            var size = (int)Math.Min(ChunkSize, Length - done);
            random.NextBytes(chunk.AsSpan(0, size));
            hash.AppendData(chunk, 0, size);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
