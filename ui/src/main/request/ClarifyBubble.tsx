/** The governor's questions as an assistant message; the reply goes to the same thread. */
export function ClarifyBubble({ questions }: { questions: string[] }) {
  return (
    <div className="bubble bubble-assistant clarify" role="status">
      <p>Before going on, the governor needs to know:</p>
      <ul>
        {questions.map((question) => (
          <li key={question}>{question}</li>
        ))}
      </ul>
      <p className="hint">Answer in this thread.</p>
    </div>
  );
}
