using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Porthole.Protocol.Api;

namespace Porthole.Server.Http;

/// <summary>
/// Turns a request the framework could not bind (malformed JSON, a string where a number belongs, an oversized
/// body) into problem details that name the field, instead of an empty 400. Route handlers are set to throw on bad
/// requests so that this is the one place they are answered.
/// </summary>
public sealed class BadRequestExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || httpContext.Response.HasStarted)
        {
            return false;
        }

        var detail = bad.InnerException is JsonException json
            ? $"the request body is not valid: {FirstSentence(json.Message)}{(json.Path is { Length: > 0 } path ? $" (at {path})" : "")}"
            : "the request is not valid: " + FirstSentence(bad.Message);
        await ApiProblem.WriteAsync(httpContext, bad.StatusCode, ProblemCodes.Validation, "Invalid request", detail);
        return true;
    }

    // System.Text.Json appends "Path: … | LineNumber: …" after its first sentence; the path is reported separately.
    private static string FirstSentence(string message) =>
        message.Split(" Path:", 2)[0].Split(" | ", 2)[0].TrimEnd();
}
