using System.IO.Pipelines;

namespace Porthole.Server.Transport;

/// <summary>How a stretch of reading ended: input went quiet, the relay is behind (await its flush), or the connection ended.</summary>
internal readonly struct HotOutcome
{
    public static readonly HotOutcome Idle = default;

    public static readonly HotOutcome Finished = new(finished: true);

    private HotOutcome(bool finished) => IsFinished = finished;

    public HotOutcome(Task<FlushResult> pending) => Pending = pending;

    public HotOutcome(Exception error) => Error = error;

    /// <summary>After a completed flush of the input: finished when its reader is done with it, otherwise idle.</summary>
    public static HotOutcome After(FlushResult flush) => flush.IsCompleted || flush.IsCanceled ? Finished : Idle;

    /// <summary>The input's reader is behind: the flush to wait for before reading on.</summary>
    public Task<FlushResult>? Pending { get; }

    /// <summary>Why reading failed.</summary>
    public Exception? Error { get; }

    /// <summary>The input ended, or its reader is done with it.</summary>
    public bool IsFinished { get; }
}
