using System.Collections.Concurrent;

namespace Porthole.Server.Transport;

/// <summary>
/// Threads of the transport's own on which a busy connection reads, decrypts and hands its bytes on synchronously,
/// waiting for more in <c>poll</c> rather than on the event loop: for as long as data keeps coming, a relayed byte
/// goes from the kernel through TLS and the relay to the next connection's send on one thread, with no hop between
/// threads (the hops, not the copies, were most of the server's CPU per byte here; docs/design/tls-data-plane.md).
/// A connection gives its thread back once its input has been quiet for <see cref="QuietMilliseconds"/>. The threads
/// are few and capped: a connection that finds none free runs as a .NET-pool connection would, asynchronously.
/// </summary>
internal sealed class HotThreads
{
    /// <summary>How long a hot connection waits for more input on its thread before it rests on the event loop.</summary>
    public const int QuietMilliseconds = 100;

    // An unused thread ends after this long, so a burst's threads do not stay for good.
    private static readonly TimeSpan UnusedLifetime = TimeSpan.FromSeconds(30);

    [ThreadStatic]
    private static bool _onHotThread;

    private readonly ConcurrentStack<Worker> _idle = new();
    private readonly int _maximum;
    private int _count;

    public HotThreads(int maximum) => _maximum = maximum;

    /// <summary>
    /// Whether the calling thread is a hot thread: one that may block briefly on a full send buffer, because the only
    /// connection it would hold up is the one whose bytes it is carrying (the wait is their back-pressure).
    /// </summary>
    public static bool OnHotThread => _onHotThread;

    /// <summary>The number of threads that exist now, busy or waiting for work.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Runs <paramref name="work"/> on a hot thread; false when all are busy and the cap is reached.</summary>
    public bool TryRun<T>(Func<T> work, out Task<T> running)
    {
        // The caller's continuation runs on the hot thread as it finishes: a connection that goes quiet registers
        // its wait for the reactor right there, rather than after a hop through the pool.
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.None);
        running = completion.Task;
        return TryRun(() =>
        {
            try
            {
                completion.SetResult(work());
            }
            catch (Exception ex)
            {
                completion.SetException(ex);
            }
        });
    }

    private bool TryRun(Action work)
    {
        while (_idle.TryPop(out var worker))
        {
            if (worker.TryAssign(work))
            {
                return true;
            }
        }

        if (Interlocked.Increment(ref _count) > _maximum)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        var started = new Worker(this);
        started.TryAssign(work);
        started.Start();
        return true;
    }

    private sealed class Worker(HotThreads owner)
    {
        // No spinning before it blocks: a spinning wait between two hot runs was a third of the server's system calls.
        private readonly ManualResetEventSlim _signal = new(false, spinCount: 0);
        private readonly Lock _lock = new();
        private Action? _work;
        private bool _retired;

        public void Start() => new Thread(Run, maxStackSize: 256 * 1024) { IsBackground = true, Name = "porthole hot I/O" }.Start();

        public bool TryAssign(Action work)
        {
            lock (_lock)
            {
                if (_retired)
                {
                    return false;
                }

                _work = work;
            }

            _signal.Set();
            return true;
        }

        private void Run()
        {
            _onHotThread = true;
            while (true)
            {
                var signalled = _signal.Wait(UnusedLifetime);
                _signal.Reset();
                if (!signalled)
                {
                    lock (_lock)
                    {
                        if (_work is null)
                        {
                            // Retire; a TryAssign that popped this worker meanwhile sees it and takes another.
                            _retired = true;
                            Interlocked.Decrement(ref owner._count);
                            return;
                        }
                    }

                    continue;
                }

                Action work;
                lock (_lock)
                {
                    work = _work!;
                    _work = null;
                }

                work();
                owner._idle.Push(this);
            }
        }
    }
}
