using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace Porthole.Server.Hosting;

/// <summary>
/// Gives Kestrel's transport, TLS and HTTP pipes larger blocks than its default 4 KiB ones. Kestrel sizes socket
/// reads and the writes into <see cref="System.Net.Security.SslStream"/> by the pool's block, so with 4 KiB blocks a
/// relayed 64 KiB WebSocket message became 16 TLS records on the way out and 32 receive calls (a peek and a 4 KiB
/// read each) on the way in. 16 KiB is one full TLS record (RFC 8446 §5.1); 64 KiB, four of them, lets one receive
/// call and one decryption pass take several records at once (ab/15); 128 KiB, a whole relay message
/// (<c>DataFrames.DefaultBufferSize</c>), halves the receive calls again, each of which Kestrel precedes with a 1-byte
/// peek: server CPU per GB −6 % plain and −11 % over TLS (ab/50). Idle connections hold no block: Kestrel waits for
/// data with a zero-byte read before it rents one. Measured in docs/performance.md.
/// </summary>
public sealed class LargeBlockMemoryPoolFactory(int blockSize) : IMemoryPoolFactory<byte>
{
    /// <summary>The block size unless <c>Porthole:TransportBlockSize</c> says otherwise.</summary>
    public const int DefaultBlockSize = 128 * 1024;

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool(blockSize);

    private sealed class LargeBlockMemoryPool(int blockSize) : MemoryPool<byte>
    {
        // The shared array pool's arrays, so blocks are reused across connections and returned on dispose.
        public override int MaxBufferSize => int.MaxValue;

        public override IMemoryOwner<byte> Rent(int minBufferSize = -1) => Shared.Rent(Math.Max(minBufferSize, blockSize));

        protected override void Dispose(bool disposing)
        {
        }
    }
}
