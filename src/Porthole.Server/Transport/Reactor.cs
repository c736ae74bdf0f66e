using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Porthole.Server.Transport;

/// <summary>
/// The transport's own readiness loop: one thread in <c>epoll_wait</c> over the sockets of resting connections.
/// .NET's event loop would do, except that a socket stays registered with it for good once used asynchronously, and
/// then every segment that reaches a hot connection wakes the event thread and a pool thread for nothing (≈1 500 pool
/// work items a second at full speed, each followed by the pool's spinning: a third of the server's CPU). Here a socket
/// is armed only while a connection waits on it (<c>EPOLLONESHOT</c>), so a hot connection raises no event at all.
/// A hot connection's read wait completes on this thread (its continuation only hands the connection to a hot
/// thread); every other wait completes on the pool.
/// </summary>
internal sealed class Reactor
{
    private const int EpollCtlAdd = 1;
    private const int EpollCtlDel = 2;
    private const int EpollCtlMod = 3;
    private const uint EpollIn = 0x1;
    private const uint EpollOut = 0x4;
    private const uint EpollErr = 0x8;
    private const uint EpollHup = 0x10;
    private const uint EpollRdHup = 0x2000;
    private const uint EpollOneShot = 1u << 30;

    private readonly int _epoll;
    private readonly ConcurrentDictionary<long, Registration> _registrations = new();
    private long _lastId;

    /// <summary>Whether the reactor runs here: Linux on x86-64.</summary>
    public static bool IsSupported => RuntimeInformation.ProcessArchitecture == Architecture.X64 && OperatingSystem.IsLinux();

    public Reactor()
    {
        if (!IsSupported)
        {
            // struct epoll_event is packed on x86-64 only; the layout below is that one.
            throw new PlatformNotSupportedException("Porthole:Transport=Porthole runs on Linux x86-64 only");
        }

        _epoll = EpollCreate(0x80000); // EPOLL_CLOEXEC
        if (_epoll < 0)
        {
            throw new IOException($"epoll_create1 failed (errno {Marshal.GetLastPInvokeError()})");
        }

        new Thread(Run) { IsBackground = true, Name = "porthole reactor" }.Start();
    }

    /// <summary>Adds a socket, disarmed; <see cref="Registration.Dispose"/> removes it before the socket is closed.</summary>
    public Registration Register(int fd)
    {
        var registration = new Registration(this, fd, Interlocked.Increment(ref _lastId));
        _registrations[registration.Id] = registration;
        var ev = new EpollEvent { Events = EpollOneShot, Data = registration.Id };
        if (EpollCtl(_epoll, EpollCtlAdd, fd, ref ev) < 0)
        {
            _registrations.TryRemove(registration.Id, out _);
            throw new IOException($"epoll_ctl ADD failed (errno {Marshal.GetLastPInvokeError()})");
        }

        return registration;
    }

    private void Run()
    {
        var events = new EpollEvent[256];
        while (true)
        {
            var count = EpollWait(_epoll, events, events.Length, -1);
            if (count < 0)
            {
                continue; // EINTR
            }

            for (var i = 0; i < count; i++)
            {
                if (_registrations.TryGetValue(events[i].Data, out var registration))
                {
                    registration.Signal(events[i].Events);
                }
            }
        }
    }

    /// <summary>One socket's waits: at most one for reading and one for writing at a time.</summary>
    internal sealed class Registration(Reactor reactor, int fd, long id) : IDisposable
    {
        private readonly Lock _lock = new();
        private TaskCompletionSource? _readable;
        private TaskCompletionSource? _writable;
        private bool _disposed;

        public long Id { get; } = id;

        /// <summary>
        /// Completes once the socket has input, has ended or failed: on the reactor thread when <paramref name="inline"/>
        /// (a hot connection's wait, whose continuation only hands it to a hot thread), otherwise on the pool, so that
        /// a TLS handshake or a request never runs on the reactor thread and holds up every other connection's wake-up.
        /// </summary>
        public Task WhenReadable(bool inline) => Arm(ref _readable, inline ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes (on the pool) once the socket's send buffer has room, or it failed.</summary>
        public Task WhenWritable() => Arm(ref _writable, TaskCreationOptions.RunContinuationsAsynchronously);

        private Task Arm(ref TaskCompletionSource? waiter, TaskCreationOptions options)
        {
            lock (_lock)
            {
                if (_disposed)
                {
                    return Task.FromException(new ObjectDisposedException("the connection is closed"));
                }

                waiter ??= new TaskCompletionSource(options);
                var task = waiter.Task;
                Rearm();
                return task;
            }
        }

        // Called under the lock: arms the socket for whatever is still awaited.
        private void Rearm()
        {
            var wanted = (_readable is null ? 0 : EpollIn | EpollRdHup) | (_writable is null ? 0 : EpollOut);
            if (wanted == 0)
            {
                return;
            }

            var ev = new EpollEvent { Events = wanted | EpollOneShot, Data = Id };
            if (EpollCtl(reactor._epoll, EpollCtlMod, fd, ref ev) < 0)
            {
                var error = new IOException($"epoll_ctl MOD failed (errno {Marshal.GetLastPInvokeError()})");
                _readable?.TrySetException(error);
                _writable?.TrySetException(error);
                _readable = _writable = null;
            }
        }

        internal void Signal(uint events)
        {
            TaskCompletionSource? readable = null, writable = null;
            lock (_lock)
            {
                var failed = (events & (EpollErr | EpollHup)) != 0;
                if (failed || (events & (EpollIn | EpollRdHup)) != 0)
                {
                    (readable, _readable) = (_readable, null);
                }

                if (failed || (events & EpollOut) != 0)
                {
                    (writable, _writable) = (_writable, null);
                }

                if (!_disposed)
                {
                    Rearm();
                }
            }

            // The caller finds out what happened from its next receive or send.
            readable?.TrySetResult();
            writable?.TrySetResult();
        }

        public void Dispose()
        {
            TaskCompletionSource? readable, writable;
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                (readable, writable) = (_readable, _writable);
                _readable = _writable = null;
                var ev = default(EpollEvent);
                EpollCtl(reactor._epoll, EpollCtlDel, fd, ref ev);
                reactor._registrations.TryRemove(Id, out _);
            }

            readable?.TrySetResult();
            writable?.TrySetResult();
        }
    }

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct EpollEvent
    {
        public uint Events;
        public long Data;
    }

    [DllImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static extern int EpollCreate(int flags);

    [DllImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static extern int EpollCtl(int epoll, int operation, int fd, ref EpollEvent ev);

    [DllImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static extern int EpollWait(int epoll, [Out] EpollEvent[] events, int maxEvents, int timeout);
}
