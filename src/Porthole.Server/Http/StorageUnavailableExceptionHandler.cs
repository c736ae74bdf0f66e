using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Data.Sqlite;
using Porthole.Protocol.Api;

namespace Porthole.Server.Http;

/// <summary>
/// A database that is locked by another process past <c>Porthole:DatabaseBusyTimeout</c>, a full disk, or a store
/// that cannot be written answers 503 <c>storage-unavailable</c> with the reason, instead of a bare 500 or a request
/// that hangs. The failed request changed nothing (SQLite rolls the statement back); sessions already open do not
/// touch the database while they run and keep going.
/// </summary>
public sealed partial class StorageUnavailableExceptionHandler(ILogger<StorageUnavailableExceptionHandler> logger) : IExceptionHandler
{
    // SQLite primary result codes (https://www.sqlite.org/rescode.html).
    private const int Busy = 5;
    private const int Locked = 6;
    private const int ReadOnly = 8;
    private const int IoError = 10;
    private const int Full = 13;
    private const int CannotOpen = 14;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (ExceptionChain.Find<SqliteException>(exception) is not { } sqlite || httpContext.Response.HasStarted)
        {
            return false;
        }

        var detail = sqlite.SqliteErrorCode switch
        {
            Busy or Locked => "the database is locked by another process or a long operation; try again in a moment",
            Full => "the database cannot grow: the disk is full",
            ReadOnly => "the database is read-only",
            IoError or CannotOpen => "the database cannot be read or written (I/O error)",
            _ => null,
        };
        if (detail is null)
        {
            return false;
        }

        StorageUnavailable(logger, sqlite.SqliteErrorCode, sqlite.SqliteExtendedErrorCode, detail);
        httpContext.Response.Headers.RetryAfter = "5";
        await ApiProblem.WriteAsync(httpContext, StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable, "Storage unavailable", detail);
        return true;
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "Storage unavailable (SQLite error {Code}/{ExtendedCode}): {Detail}")]
    private static partial void StorageUnavailable(ILogger logger, int code, int extendedCode, string detail);
}
