using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Porthole.Server.Http;

/// <summary>
/// RFC 9457 problem details with a machine-readable <c>code</c> extension (see <see cref="Porthole.Protocol.Api.ProblemCodes"/>).
/// </summary>
public static class ApiProblem
{
    public static ProblemHttpResult Create(int status, string code, string title, string detail) =>
        TypedResults.Problem(new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = detail,
            Type = "https://porthole.dev/problems/" + code,
            Extensions = { ["code"] = code },
        });

    /// <summary>
    /// The problem as it is, with <c>Retry-After</c> when it is a 503 (the server is draining or its store is busy): a
    /// client may try again shortly.
    /// </summary>
    public static ProblemHttpResult WithRetryAfter(HttpContext context, ProblemHttpResult problem)
    {
        if (problem.StatusCode == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = "5";
        }

        return problem;
    }

    public static ProblemHttpResult NotFound(string code, string detail) => Create(StatusCodes.Status404NotFound, code, "Not found", detail);

    public static ProblemHttpResult Validation(string detail) => Create(StatusCodes.Status400BadRequest, Porthole.Protocol.Api.ProblemCodes.Validation, "Invalid request", detail);

    public static ProblemHttpResult Conflict(string code, string detail) => Create(StatusCodes.Status409Conflict, code, "Conflict", detail);

    /// <summary>Writes a problem directly, for middleware that runs outside an endpoint (authentication).</summary>
    public static Task WriteAsync(HttpContext context, int status, string code, string title, string detail) =>
        Create(status, code, title, detail).ExecuteAsync(context);
}
