using System.Collections.Concurrent;

namespace Porthole.Server.Data;

/// <summary>
/// What recent reads on the paths every session takes found, so that the requests of one session (and of a busy
/// console) do not each read them again: authentications (keyed by the secret's SHA-256, never the secret), the
/// device a session is opened to with its endpoints and tags, and the remote-access rules. An entry is used only
/// while no write has been committed since the read it came from, and for at most <see cref="MaxAge"/>
/// (docs/design/access-control.md, "Read cache"). Values are shared between requests and never changed.
/// </summary>
public sealed class ReadCache
{
    /// <summary>
    /// How long an entry may be used at most. Writes through this server invalidate at once; this bounds what it
    /// cannot see (another process writing the same database file).
    /// </summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    /// <summary>Entries kept at most; when full the cache starts over (a re-read costs one query, nothing else).</summary>
    public const int Capacity = 10_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _generation;

    /// <summary>Moves on after every committed write that could change an answer (<see cref="ReadCacheInvalidator"/>).</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>Entries held now (for tests and diagnostics).</summary>
    public int Count => _entries.Count;

    /// <summary>Forgets every entry; called after a committed write.</summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        _entries.Clear();
    }

    /// <summary>The value stored under <paramref name="key"/>, if it is still current.</summary>
    public bool TryGet<T>(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? value) where T : class
    {
        if (_entries.TryGetValue(key, out var entry)
            && entry.Generation == Generation
            && Environment.TickCount64 - entry.StoredAt < (long)MaxAge.TotalMilliseconds
            && entry.Value is T found)
        {
            value = found;
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>
    /// Stores what a read found. <paramref name="readAtGeneration"/> is <see cref="Generation"/> taken before that read:
    /// if a write was committed meanwhile the value may predate it, and it is not stored.
    /// </summary>
    public void Add(string key, object value, long readAtGeneration)
    {
        if (readAtGeneration != Generation)
        {
            return;
        }

        if (_entries.Count >= Capacity)
        {
            _entries.Clear();
        }

        _entries[key] = new Entry(value, readAtGeneration, Environment.TickCount64);

        // An invalidation between the check above and the store must not leave this entry behind: it carries the old
        // generation, so TryGet refuses it anyway.
    }

    /// <summary>
    /// The value under <paramref name="key"/> if it is current, else what <paramref name="read"/> finds, stored unless
    /// a write was committed while it read. A <c>null</c> (nothing found) is not stored.
    /// </summary>
    public async Task<T?> GetOrReadAsync<T>(string key, Func<Task<T?>> read) where T : class
    {
        if (TryGet<T>(key, out var cached))
        {
            return cached;
        }

        var generation = Generation;
        var found = await read().ConfigureAwait(false);
        if (found is not null)
        {
            Add(key, found, generation);
        }

        return found;
    }

    private sealed record Entry(object Value, long Generation, long StoredAt);
}
