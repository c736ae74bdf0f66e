using System.Buffers;

namespace Porthole.Server.Transport;

/// <summary>What every connection of one <see cref="PortholeTransportFactory"/> shares.</summary>
internal sealed class TransportShared(MemoryPool<byte> memoryPool, int blockSize, HotThreads hotThreads, Reactor reactor)
{
    public MemoryPool<byte> MemoryPool { get; } = memoryPool;

    /// <summary>The pipes' segment size: a relayed message's worth, as for Kestrel's own transport.</summary>
    public int BlockSize { get; } = blockSize;

    public HotThreads HotThreads { get; } = hotThreads;

    public Reactor Reactor { get; } = reactor;
}
