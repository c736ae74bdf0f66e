namespace Porthole.Server.Http;

/// <summary>Finding the exception that says what went wrong inside the wrappers (EF Core, HttpClient, YARP) around it.</summary>
public static class ExceptionChain
{
    /// <summary>The first exception of type <typeparamref name="T"/> in the chain of inner exceptions, or <c>null</c>.</summary>
    public static T? Find<T>(Exception? exception) where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T found)
            {
                return found;
            }
        }

        return null;
    }
}
