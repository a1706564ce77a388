package showntell

import (
	"context"
	"errors"
	"fmt"

	"github.com/dschema/dschema/internal/loaders"
	"github.com/dschema/dschema/internal/pickle"
)

// Recognize implements loaders.Recognizer: a pickle (protocol 2 to 5, by
// its PROTO opcode) that decodePickle reads as one of the two layouts. A
// pickle has no header that tells its layout, so it is decoded whole, as
// the load does (safely, bounded by maxPickle); one that fails is declined
// with the decoder's reason.
func (Loader) Recognize(ctx context.Context, p *loaders.Probe) (string, error) {
	if p.Format != loaders.FormatPickle {
		return "", nil
	}
	if p.Size > maxPickle {
		p.Decline(fmt.Sprintf("showntell: %d bytes: pickles over %d bytes are not read", p.Size, maxPickle))
		return "", nil
	}
	v, err := decodePickle(p.Path)
	if err != nil {
		var fe *loaders.FileError
		if !errors.As(err, &fe) {
			return "", err
		}
		msg := fe.Msg
		if fe.Place != "" {
			msg = fe.Place + ": " + msg
		}
		p.Decline("showntell: " + msg)
		return "", nil
	}
	switch v.(type) {
	case *pickle.Dict:
		return VariantModernized, nil
	case *pickle.DataFrame:
		return VariantMatched, nil
	}
	return "", nil
}

// After implements loaders.Dependent: the pickles' finetune runs are
// compared with those the W&B runs load derived (the first source keeps
// a run), so wandb-runs comes first, as in the lab's pipeline.
func (Loader) After() []string { return []string{"wandb-runs"} }
