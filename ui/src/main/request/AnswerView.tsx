import type { Passage } from "../../api/types";

/** The answer's text (streamed while `streaming`) and its sources as citation chips. */
export function AnswerView({
  answer,
  sources,
  streaming,
  onCite,
}: {
  answer: string;
  sources: Passage[];
  streaming: boolean;
  onCite: (chunkId: number) => void;
}) {
  return (
    <div className="bubble bubble-assistant answer">
      <p className="answer-text" data-testid="answer-text" aria-live={streaming ? "polite" : "off"}>
        {answer}
        {streaming && <span className="caret" aria-hidden="true" />}
      </p>
      {sources.length > 0 && (
        <p className="citations">
          <span className="muted">Sources:</span>
          {sources.map((source) => (
            <button
              key={source.chunk_id}
              type="button"
              className="citation-chip"
              data-testid="citation"
              title={source.quote}
              onClick={() => {
                onCite(source.chunk_id);
              }}
            >
              {source.citation}
            </button>
          ))}
        </p>
      )}
    </div>
  );
}
