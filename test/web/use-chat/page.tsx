import { useChat } from "@ai-sdk/react";
import { DefaultChatTransport, type UIMessage } from "ai";
import { useState } from "react";
import { createRoot } from "react-dom/client";

// A page written the way the AI SDK's docs write one: useChat with its default transport,
// nothing adapted to Tasktalk but the URL and the bearer token.

declare global {
  interface Window {
    TASKTALK_TOKEN: string;
  }
}

const textOf = (message: UIMessage) =>
  message.parts.map((part) => (part.type === "text" ? part.text : "")).join("");

function App() {
  const [input, setInput] = useState("");
  const { messages, sendMessage, status, error } = useChat({
    transport: new DefaultChatTransport({
      api: "/api/chat",
      headers: { authorization: `Bearer ${window.TASKTALK_TOKEN}` },
    }),
  });
  return (
    <main>
      <h1>useChat</h1>
      <ul aria-label="messages">
        {messages.map((message) => (
          <li key={message.id} data-role={message.role} data-id={message.id}>
            {textOf(message)}
          </li>
        ))}
      </ul>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void sendMessage({ text: input });
          setInput("");
        }}
      >
        <input aria-label="message" value={input} onChange={(e) => setInput(e.target.value)} />
        <button type="submit" disabled={status !== "ready"}>
          Send
        </button>
      </form>
      <p data-testid="status">{status}</p>
      {error ? <p role="alert">{error.message}</p> : null}
    </main>
  );
}

const root = document.getElementById("root");
if (root) createRoot(root).render(<App />);
